"""mediahub: a self-hosted media library — magnet in, streaming video out."""

from __future__ import annotations

from typing import Any

from mediahub.settings import Settings, SettingsError

__version__ = "0.1.0"
__all__ = ["Hub", "Settings", "SettingsError", "app", "__version__"]


def __getattr__(name: str) -> Any:
    # `app` and `Hub` are imported lazily so `import mediahub` stays cheap and
    # `uvicorn mediahub:app` reads the environment only when it starts. The app is made once:
    # once in the module's namespace, later lookups find it there and skip this function.
    if name == "Hub":
        from mediahub.hub import Hub

        return Hub
    if name == "app":
        from mediahub.api.app import create_app

        globals()["app"] = app = create_app()
        return app
    raise AttributeError(name)
