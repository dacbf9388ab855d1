"""The Litestar app: a thin HTTP face on a Hub.

`create_app()` (what `uvicorn mediahub:app` runs) opens a Hub from the environment for the
app's lifetime; `create_app(hub)` serves a Hub someone else opened and will close (a
notebook, a test, `hub.client`). That app needs no lifespan run: `hub.client`'s transport
runs none.
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
from mediahub.api.auth import provide_actor, provide_hub, provide_item, provide_playable
from mediahub.api.downloads import DownloadController
from mediahub.api.errors import EXCEPTION_HANDLERS
from mediahub.api.images import ImageController
from mediahub.api.media import MediaController
from mediahub.api.openapi import document_errors
from mediahub.api.profiles import ProfileController
from mediahub.api.security import HostGuard, RedactSecrets, TokenBrake, refuse_malformed
from mediahub.api.session import SessionController
from mediahub.api.stream import StreamController
from mediahub.api.web import docs_ui, index, static_files
from mediahub.hub import Hub
from mediahub.settings import Settings

ACCESS_LOG_FILTER = RedactSecrets()

CONTROLLERS: list = [
    MediaController,
    ProfileController,
    SessionController,
    ImageController,
    DownloadController,
    StreamController,
]


@get("/health", summary="Liveness; no token needed", tags=["health"], security=[{}])  # [{}]: anonymous is fine
async def health() -> dict[str, str]:
    return {"status": "ok", "version": mediahub.__version__}


def create_app(hub: Hub | None = None, settings: Settings | None = None) -> Litestar:
    settings = hub.settings if hub is not None else settings or Settings.from_env()
    # Whoever runs uvicorn (`uvicorn mediahub:app`, `mediahub serve`), its access log never
    # shows a token or grant from a media URL. Adding the same filter twice is a no-op.
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)

    @asynccontextmanager
    async def own_hub(app: Litestar) -> AsyncIterator[None]:
        async with Hub.open(settings) as opened:
            app.state.hub = opened
            yield

    app = Litestar(
        route_handlers=[health, *CONTROLLERS, index, static_files],
        dependencies={
            "hub": Provide(provide_hub, sync_to_thread=False),
            "actor": Provide(provide_actor),
            "item": Provide(provide_item),
            "playable": Provide(provide_playable),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[DefineMiddleware(HostGuard, allowed_hosts=settings.allowed_hosts)],
        state=State({"token_brake": TokenBrake(), **({"hub": hub} if hub is not None else {})}),
        before_request=refuse_malformed,
        lifespan=[] if hub is not None else [own_hub],
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
            render_plugins=[docs_ui],  # its assets are served from /static: the docs work offline
        ),
    )
    document_errors(app)
    return app
