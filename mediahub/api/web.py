"""The web app at `/`, and the offline assets of the OpenAPI docs UI.

Why plain ES modules and static files, not server-rendered templates: every screen is live
(download progress over server-sent events, a `<video>` that saves its position, a card that
appears when a magnet is added), so the pages are made of the same JSON the API already
serves, and a template layer would only duplicate it. Browsers load ES modules natively:
no bundler, no Node toolchain at install or run time, and the files under `mediahub/web/`
are the code that runs. The one server-side touch is `data-signed-in` on `<html>`, so a
fresh visitor sees the sign-in form without a 401 in the console first.

The page and its static files need no token: they hold no data. The pages send no token
anywhere either: they sign in once (POST /api/session) and ride the HttpOnly cookie.
Third-party files (hls.js for browsers without native HLS, swagger-ui for /schema) are
vendored under `mediahub/web/static/vendor/` with their versions and licences.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import MediaType, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from mediahub.api.session_cookie import session_actor
from mediahub.errors import Unauthorized

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
SWAGGER = "/static/vendor/swagger-ui-dist-5.35.0"
# Everything from our own origin; `blob:` for hls.js (MediaSource URLs and its worker).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@cache
def _index() -> str:
    return (WEB_DIR / "index.html").read_text(encoding="utf-8")


@get("/", include_in_schema=False, security=[{}])
async def index(request: Request) -> Response[str]:
    """The app's one page; its views are hash routes (#/media/<id>, #/watch/<id>, ...)."""
    try:
        signed_in = await session_actor(request) is not None
    except Unauthorized:
        signed_in = False
    html = _index().replace('data-signed-in=""', f'data-signed-in="{"yes" if signed_in else "no"}"', 1)
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return Response(html, media_type=MediaType.HTML, headers=headers)


static_files = create_static_files_router(
    path="/static",
    directories=[WEB_DIR / "static"],
    include_in_schema=False,
    cache_control=CacheControlHeader(no_cache=True),  # revalidated (ETag), so an upgrade shows at once
)

docs_ui = SwaggerRenderPlugin(
    js_url=f"{SWAGGER}/swagger-ui-bundle.js",
    css_url=f"{SWAGGER}/swagger-ui.css",
    standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
    favicon="<link rel='icon' href='/static/icon.svg' type='image/svg+xml'>",
    path=["/swagger", "/"],
)
