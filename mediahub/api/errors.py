"""One error shape everywhere: status code plus `{"message": ...}` (and `errors` for fields)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from mediahub.errors import MediahubError

log = logging.getLogger(__name__)


def mediahub_error(_: Request, exc: MediahubError) -> Response[dict[str, Any]]:
    return Response({"message": exc.message, **exc.extra}, status_code=exc.status_code, headers=exc.headers)


def http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"message": _sentence(exc.detail)}
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        body["message"] = "The request is not valid: " + "; ".join(_field_message(e) for e in exc.extra)
        body["errors"] = [
            {"field": str(e.get("key") or "body"), "message": str(e.get("message", ""))}
            for e in exc.extra
            if isinstance(e, dict)
        ]
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def internal_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response({"message": "Something went wrong on the server; see its log."}, status_code=500)


def _field_message(error: Any) -> str:
    if isinstance(error, dict):
        key = error.get("key")
        return f"{key}: {error.get('message')}" if key else str(error.get("message"))
    return str(error)


def _sentence(detail: str) -> str:
    detail = detail.strip() or "Request failed"
    return detail if detail.endswith(".") else detail + "."


EXCEPTION_HANDLERS = {
    MediahubError: mediahub_error,
    HTTPException: http_error,
    Exception: internal_error,
}
