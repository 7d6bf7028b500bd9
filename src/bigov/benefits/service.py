"""Queries and commands of the benefits context (realisation analysis: ``bigov.analysis``)."""

from __future__ import annotations

from sqlalchemy import select

from bigov.benefits.models import Benefit, BenefitProfile
from bigov.db.service import Service, get_by_code


class BenefitService(Service):
    """Benefits and their profiles."""

    def benefits(self) -> list[Benefit]:
        """Every benefit and dis-benefit, by code."""
        with self.ws.session() as s:
            return list(s.scalars(select(Benefit).order_by(Benefit.code)))

    def profile(self, code: str) -> list[BenefitProfile]:
        """A benefit's planned / forecast / actual profile, in period order."""
        with self.ws.session() as s:
            benefit = get_by_code(s, Benefit, code)
            return list(
                s.scalars(
                    select(BenefitProfile)
                    .where(BenefitProfile.benefit_id == benefit.id)
                    .order_by(BenefitProfile.period)
                )
            )
