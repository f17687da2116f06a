"""Cheap, deterministic quality signals for RAG pipelines."""
