"""The HTTP server: app factory, settings, middleware, request dependencies, RFC 9457 errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bigov.server.app import create_app
    from bigov.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # loaded on first use: `bigov serve`, `user` and `token` are mounted from bigov.server.cli,
    # and every CLI start-up would otherwise import FastAPI
    if name == "create_app":
        from bigov.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from bigov.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
