"""The Litestar app: a thin HTTP face on a Hub.

`create_app()` (what `uvicorn mediahub:app` runs) opens a Hub from the environment for the
app's lifetime; `create_app(hub)` serves a Hub someone else opened and will close (a
notebook, a test).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

import mediahub
from mediahub.api.auth import provide_actor, provide_hub
from mediahub.api.downloads import DownloadController
from mediahub.api.errors import EXCEPTION_HANDLERS
from mediahub.api.images import ImageController
from mediahub.api.media import MediaController
from mediahub.api.openapi import document_errors
from mediahub.api.profiles import ProfileController
from mediahub.api.security import HostGuard, RedactSecrets, TokenBrake, refuse_malformed
from mediahub.api.stream import StreamController
from mediahub.hub import Hub
from mediahub.settings import Settings

ACCESS_LOG_FILTER = RedactSecrets()

CONTROLLERS: list = [MediaController, ProfileController, ImageController, DownloadController, StreamController]


@get("/health", summary="Liveness; no token needed", tags=["health"], security=[{}])  # [{}]: anonymous is fine
async def health() -> dict[str, str]:
    return {"status": "ok", "version": mediahub.__version__}


def create_app(hub: Hub | None = None, settings: Settings | None = None) -> Litestar:
    settings = hub.settings if hub is not None else settings or Settings.from_env()
    # Whoever runs uvicorn (`uvicorn mediahub:app`, `mediahub serve`), its access log never
    # shows a token or grant from a media URL. Adding the same filter twice is a no-op.
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if hub is not None:
            app.state.hub = hub
            yield
            return
        async with Hub.open(settings) as own_hub:
            app.state.hub = own_hub
            yield

    app = Litestar(
        route_handlers=[health, *CONTROLLERS],
        dependencies={"hub": Provide(provide_hub, sync_to_thread=False), "actor": Provide(provide_actor)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[DefineMiddleware(HostGuard, allowed_hosts=settings.allowed_hosts)],
        state=State({"token_brake": TokenBrake()}),
        before_request=refuse_malformed,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        # Serving someone else's hub (a notebook, a script): leave their logging alone.
        logging_config=None if hub is not None else LoggingConfig(),
        openapi_config=OpenAPIConfig(
            title="mediahub",
            version=mediahub.__version__,
            description="Self-hosted media library: magnet in, streaming video out.",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="API token")}
            ),
            security=[{"bearer": []}],
        ),
    )
    document_errors(app)
    return app
