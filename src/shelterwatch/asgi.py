"""The app for ASGI servers: `uvicorn shelterwatch.asgi:app`."""

from shelterwatch.app import create_app

app = create_app()
