"""Images, audio, video and documents in a prompt, as one record whatever the framework.

Frameworks hand media over as URLs (``https://``, ``gs://``, or ``data:`` URLs carrying
base64), as raw or base64 bytes, or as a provider's file id. The conventions want a
``uri`` part for a reference and a ``blob`` part for inline data, never a ``data:`` URL
in a ``uri``.

Example:
    >>> media_part("image", url="data:image/png;base64,iVBORw0KGgo=")
    MediaPart(modality='image', mime_type='image/png', uri=None, data='iVBORw0KGgo=', file_id=None)
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from semtrace.records import MediaPart


def media_part(
    modality: str,
    *,
    url: Any = None,
    data: Any = None,
    mime_type: Any = None,
    file_id: Any = None,
) -> MediaPart | None:
    """The part for one medium; None when it names no data, reference or file at all."""
    mime = mime_type if isinstance(mime_type, str) and mime_type else None
    if isinstance(url, str) and url.startswith("data:"):
        header, _, payload = url.partition(",")
        declared = header[5:].split(";")[0]
        return MediaPart(modality, declared or mime, data=payload)
    if isinstance(url, str) and url:
        return MediaPart(modality, mime, uri=url)
    if data is not None:
        text = _base64(data)
        return MediaPart(modality, mime, data=text) if text is not None else None
    if isinstance(file_id, str) and file_id:
        return MediaPart(modality, mime, file_id=file_id)
    return None


def _base64(data: Any) -> str | None:
    """``data`` as base64 text: kept when it already is base64, encoded when it is raw bytes."""
    if isinstance(data, str):
        return data
    if not isinstance(data, (bytes, bytearray)):
        return None
    try:
        text = bytes(data).decode("ascii")
        base64.b64decode(text, validate=True)
        return text  # already base64 (LlamaIndex stores its blocks' bytes encoded)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return base64.b64encode(bytes(data)).decode("ascii")
