"""Domain errors. Services raise these; the HTTP layer maps them to `{"message": ...}`."""

from __future__ import annotations


class MediahubError(Exception):
    """An error a user may see: the message is a human sentence, never a stack trace."""

    status_code = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(MediahubError):
    status_code = 400


class Unauthorized(MediahubError):
    status_code = 401


class Forbidden(MediahubError):
    status_code = 403


class NotFound(MediahubError):
    status_code = 404


class Conflict(MediahubError):
    status_code = 409


class PayloadTooLarge(MediahubError):
    status_code = 413


class RangeNotSatisfiable(MediahubError):
    status_code = 416


class Unavailable(MediahubError):
    """503: temporarily unplayable (failed download, all transcode slots busy)."""

    status_code = 503
