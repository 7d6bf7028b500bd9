"""Queries and commands of the raid context."""

from __future__ import annotations

from bigov.db.service import Service


class RaidService(Service):
    """Services of the raid context (grown by the issues that build on it)."""
