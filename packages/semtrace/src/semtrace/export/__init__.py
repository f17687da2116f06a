"""Export and set-up: OpenTelemetry providers, processors, the tail sampler, backend views.

Nothing here is imported until ``semtrace.configure()`` or one of these modules is first
used, so an application that exports through its own providers never pays for the SDK's
exporters. ``setup`` builds the providers from the ``OTEL_*`` variables; ``processors``,
``sampling`` and ``dedupe`` wrap span processors; ``console`` is the terminal tree;
``views`` reshape spans for Phoenix and Langfuse; ``distro`` is the entry point that
``opentelemetry-instrument`` loads.
"""
