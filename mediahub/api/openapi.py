"""Make the OpenAPI schema tell the truth about errors.

Litestar documents its validation errors as `{status_code, detail, extra}`, but every error
we send is `{"message": ..., "errors"?: [...]}` (see `mediahub.api.errors`). Rather than
repeating `responses=` on every handler, the generated schema is corrected once, after the
app is built: each documented 4xx/5xx points at `ErrorBody`, every /api operation lists its
401, a `default` response covers the rest (404 unknown id, 409, 413, 429, 503...), and a 204
documents no body.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, Schema

ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["message"],
    properties={
        "message": Schema(type=OpenAPIType.STRING, description="A sentence for the user"),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="Which fields of the request were invalid",
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={"field": Schema(type=OpenAPIType.STRING), "message": Schema(type=OpenAPIType.STRING)},
            ),
        ),
    },
    description="Every error answer: a status code plus this body.",
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def document_errors(app: Litestar) -> None:
    """Rewrite the error responses of `app`'s (cached) OpenAPI schema in place."""
    openapi = app.openapi_schema
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["ErrorBody"] = ERROR_BODY
    for path, item in (openapi.paths or {}).items():
        for method in METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses = dict(operation.responses or {})
            if isinstance(no_content := responses.get("204"), OpenAPIResponse):
                no_content.content = None  # a Response[None] that sets a cookie still sends no body
            for code, response in list(responses.items()):
                if code[0] in "45" and isinstance(response, OpenAPIResponse):
                    responses[code] = _error(response.description)
            if path.startswith("/api/"):
                responses.setdefault("401", _error("Missing or invalid API token"))
            responses.setdefault("default", _error("Any other error, with its status code"))


def _error(description: str) -> OpenAPIResponse:
    content = {"application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorBody"))}
    return OpenAPIResponse(description=description, content=content)
