"""Queries and commands of the governance context."""

from __future__ import annotations

from bigov.db.service import Service


class GovernanceService(Service):
    """Services of the governance context (grown by the issues that build on it)."""
