"""Queries and commands of the strategy context: OTIGs, versioned OTCs, key results."""

from __future__ import annotations

import datetime as dt
from types import EllipsisType

from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.db.service import Service, get_by_code
from bigov.errors import ValidationError
from bigov.strategy.models import Otc, OtcKind, OtcStatus, OtcVersion


class StrategyService(Service):
    """OTCs and their history."""

    def otcs(self, kind: OtcKind | None = None) -> list[Otc]:
        """Current versions of every OTC (optionally of one kind), by code."""
        with self.ws.session() as s:
            q = select(Otc).order_by(Otc.code)
            if kind is not None:
                q = q.where(Otc.kind == kind)
            return list(s.scalars(q))

    def add_otc(
        self,
        code: str,
        kind: OtcKind,
        title: str,
        *,
        effective_from: dt.date,
        description: str | None = None,
        target_date: dt.date | None = None,
        written_by: str | None = None,
    ) -> Otc:
        """Create an OTC at version 1 (its first version is recorded in the history too);
        ``target_date`` is its deadline."""
        with self.ws.session() as s:
            otc = Otc(
                code=code,
                kind=kind,
                title=title,
                description=description,
                status=OtcStatus.ACTIVE,
                version=1,
                effective_from=effective_from,
                target_date=target_date,
                change_reason="created",
                written_by=written_by,
            )
            otc.versions.append(
                OtcVersion(
                    code=f"{code}@v1",
                    version=1,
                    title=title,
                    description=description,
                    status=OtcStatus.ACTIVE,
                    effective_from=effective_from,
                    change_reason="created",
                    target_date=target_date,
                    written_by=written_by,
                )
            )
            s.add(otc)
            s.flush()
            return otc

    def revise_otc(
        self,
        code: str,
        *,
        effective_from: dt.date,
        reason: str,
        title: str | None = None,
        description: str | None = None,
        status: OtcStatus | None = None,
        target_date: dt.date | EllipsisType | None = ...,
        written_by: str | None = None,
    ) -> Otc:
        """Record a change of strategy: a new version of the OTC from ``effective_from``.

        The previous version is closed the day the new one starts; the OTC row shows the new one.
        A change of deadline is a ``target_date`` (None clears it; left out: unchanged), with
        the ``reason`` kept on the version.

        Raises:
            NotFoundError: unknown code.
            ValidationError: the new version would start on or before the current one.
        """
        with self.ws.session() as s:
            return revise_otc_in(
                s,
                get_by_code(s, Otc, code),
                effective_from=effective_from,
                reason=reason,
                title=title,
                description=description,
                status=status,
                target_date=target_date,
                written_by=written_by,
            )

    def history(self, code: str) -> list[OtcVersion]:
        """Every version of an OTC, oldest first."""
        with self.ws.session() as s:
            otc = get_by_code(s, Otc, code)
            return list(
                s.scalars(
                    select(OtcVersion)
                    .where(OtcVersion.otc_id == otc.id)
                    .order_by(OtcVersion.version)
                )
            )

    def as_at(self, code: str, day: dt.date) -> OtcVersion | None:
        """The version of an OTC that was in force on ``day`` (None before it existed)."""
        for version in reversed(self.history(code)):
            if version.effective_from <= day:
                return version
        return None


def revise_otc_in(
    s: Session,
    otc: Otc,
    *,
    effective_from: dt.date,
    reason: str,
    title: str | None = None,
    description: str | None = None,
    status: OtcStatus | None = None,
    target_date: dt.date | EllipsisType | None = ...,
    written_by: str | None = None,
    batch_id: int | None = None,
) -> Otc:
    """The logic of :meth:`StrategyService.revise_otc` inside the caller's session (the importer
    revises OTCs within its own all-or-nothing transaction). Same rules and errors."""
    code = otc.code
    if effective_from <= otc.effective_from:
        raise ValidationError(
            f"revision of {code} must take effect after {otc.effective_from.isoformat()}"
            f" (the current version's start), not {effective_from.isoformat()}"
        )
    current = s.scalar(
        select(OtcVersion).where(OtcVersion.otc_id == otc.id, OtcVersion.version == otc.version)
    )
    if current is not None:
        current.effective_to = effective_from
    otc.version += 1
    otc.effective_from = effective_from
    otc.title = title if title is not None else otc.title
    otc.description = description if description is not None else otc.description
    otc.status = status if status is not None else otc.status
    if not isinstance(target_date, EllipsisType):
        otc.target_date = target_date
    otc.change_reason = reason
    if batch_id is not None:
        otc.batch_id = batch_id
        otc.written_by = written_by
    s.add(
        OtcVersion(
            code=f"{code}@v{otc.version}",
            otc_id=otc.id,
            version=otc.version,
            title=otc.title,
            description=otc.description,
            status=otc.status,
            effective_from=effective_from,
            change_reason=reason,
            target_date=otc.target_date,
            written_by=written_by,
            batch_id=batch_id,
        )
    )
    s.flush()
    return otc
