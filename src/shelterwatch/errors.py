"""Domain errors that carry their HTTP status, so one handler renders them as problem+json."""

from __future__ import annotations


class ShelterwatchError(Exception):
    """Base of every error a user can be told about precisely."""

    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(ShelterwatchError):
    status_code = 422
    title = "Invalid input"


class NotFound(ShelterwatchError):
    status_code = 404
    title = "Not found"


class Unauthorized(ShelterwatchError):
    status_code = 401
    title = "Unauthorized"


class Forbidden(ShelterwatchError):
    status_code = 403
    title = "Forbidden"


class Conflict(ShelterwatchError):
    status_code = 409
    title = "Conflict"


class TooManyRequests(ShelterwatchError):
    status_code = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_s: int = 60) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Unavailable(ShelterwatchError):
    """Not ready yet (derived figures still being computed): ask again after `retry_after_s`."""

    status_code = 503
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(ShelterwatchError):
    status_code = 413
    title = "Payload too large"


class ImportRejected(ShelterwatchError):
    """A strict import found rejected rows and wrote nothing."""

    status_code = 422
    title = "Import rejected"

    def __init__(self, detail: str, summary: object | None = None) -> None:
        super().__init__(detail)
        self.summary = summary

