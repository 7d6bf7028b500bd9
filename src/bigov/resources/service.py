"""Queries and commands of the resources context."""

from __future__ import annotations

from bigov.db.service import Service


class ResourceService(Service):
    """Services of the resources context (grown by the issues that build on it)."""
