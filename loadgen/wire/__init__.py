"""Jina wire messages: the project's own protobuf definitions (no jina import)."""
