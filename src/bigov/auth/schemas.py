"""The audit trail's shape, shared by ``bigov audit --json`` and ``GET /api/v1/audit``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class AuditEventOut(BaseModel):
    """One write: who (``user``), when (``at``, ISO 8601 UTC), from where, on which entity, and
    the entity's fields before (None for a create) and after."""

    id: int
    at: str | None
    user: str
    client_ip: str | None
    action: str
    entity_kind: str
    entity_code: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    """A page of the trail, newest first; ``next_before`` asks for the older ones."""

    events: list[AuditEventOut]
    next_before: int | None


def audit_events(rows: list[dict[str, Any]]) -> list[AuditEventOut]:
    """The rows :func:`bigov.auth.service.audit_rows` returns, as the shared schema."""
    return [AuditEventOut.model_validate(r) for r in rows]
