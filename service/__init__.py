"""The HTTP service: a FastAPI app over one data dir, built by `create_app(settings)`."""
