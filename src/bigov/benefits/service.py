"""Queries and commands of the benefits context."""

from __future__ import annotations

from bigov.db.service import Service


class BenefitService(Service):
    """Services of the benefits context (grown by the issues that build on it)."""
