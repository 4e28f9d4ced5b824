"""The app for ASGI servers: `uvicorn shelterwatch.asgi:app` (and `shelterwatch serve`).

Logging is set up here, not in `create_app`: each server process imports this module once,
while tests build many apps and keep their own logging."""

from shelterwatch import logs
from shelterwatch.app import create_app
from shelterwatch.config import get_settings

_settings = get_settings()
logs.configure(_settings.log_format, logs.level_of(_settings.log_level))
app = create_app(_settings)
