"""The HTTP API (``segmint serve``): FastAPI on uvicorn over one workspace."""
