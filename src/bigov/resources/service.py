"""Queries and commands of the resources context (demand vs capacity: ``bigov.analysis``)."""

from __future__ import annotations

from sqlalchemy import select

from bigov.db.service import Service
from bigov.resources.models import Skill


class ResourceService(Service):
    """Skills, capacity and demand."""

    def skills(self) -> list[Skill]:
        """Every skill, by code."""
        with self.ws.session() as s:
            return list(s.scalars(select(Skill).order_by(Skill.code)))
