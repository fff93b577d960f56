"""HTTP API: the app factory mounts each context's router under ``/api/v1``."""
