"""The HTTP server: app factory, settings, middleware, request dependencies, RFC 9457 errors."""

from bigov.server.app import create_app
from bigov.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
