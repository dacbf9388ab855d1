"""The API from Python: `hub.client` in this process, and one way to read an answer.

`hub.client` is an `httpx.AsyncClient` whose transport calls the app directly (as Datasette's
`datasette.client` does over `Datasette.app()`): each request runs through routing,
validation, auth and the error shapes exactly as a network request does, with no server
and no socket. So the CLI's `--local` mode and the notebook use the very routes a browser
uses, and nothing maps an operation twice.

Its requests carry no token. The app wrapper below marks their ASGI scope as the in-process
owner, under a key whose value is a Python object: an HTTP server builds the scope from the
socket and the request's bytes, so nothing sent over the network can produce it. The actor
dependency and the Host guard honour the mark; `X-Profile-Id` picks the profile as it does
for the owner token. The transport hands over an answer once the app has sent all of it, so
an endless body (the SSE progress stream) cannot be followed through it.
"""

from __future__ import annotations

import httpx
from litestar.types import ASGIApp, Receive, Scope, Send

from mediahub.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MediahubError,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    Unauthorized,
    Unavailable,
)

_SCOPE_KEY = "mediahub.in_process"
_OWNER = object()  # the mark's value: only this module has it
_ERRORS: dict[int, type[MediahubError]] = {
    cls.status_code: cls
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, RangeNotSatisfiable, Unavailable)
}


def in_process_client(app: ASGIApp) -> httpx.AsyncClient:
    """An httpx client on `app` in this process, acting as the owner without a token."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_InProcess(app)), base_url="http://localhost")


def is_in_process(scope: Scope) -> bool:
    """Whether a request came through `in_process_client` (never true for one from the network)."""
    return scope.get(_SCOPE_KEY) is _OWNER


class _InProcess:
    """ASGI wrapper that marks every scope it passes on as the in-process owner's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, _SCOPE_KEY: _OWNER}, receive, send)  # type: ignore[misc]


def raise_for_error(response: httpx.Response) -> None:
    """Raise an error answer's `{"message": ...}` as the `MediahubError` of its status code.

    So a caller catches `NotFound` from the API as it would from a service, and shows the
    server's own sentence.
    """
    if not response.is_error:
        return
    try:
        message = response.json()["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text.strip()[:200] or response.reason_phrase
    error = _ERRORS.get(response.status_code, MediahubError)(message)
    error.status_code = response.status_code
    raise error
