"""Where migrated rows came from in the source system: one row per source record identity.

A Project Online project is known by its GUID (``ProjectId``); bigov knows it by a readable code.
:class:`ExternalRef` keeps the pair, so a second migration gives every project the code the first
one gave it (even after a rename in PWA), and ``bigov import FOLDER`` can match a schedule file to
its migrated project by the GUID the file carries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base


class ExternalRef(AuditMixin, Base):
    """``(system, kind, external_id)`` → the bigov ``code`` it was migrated to."""

    __tablename__ = "external_ref"
    __table_args__ = (UniqueConstraint("system", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    system: Mapped[str] = mapped_column(String(32))  # e.g. "projectonline"
    kind: Mapped[str] = mapped_column(String(32))  # the bigov kind: work_item, ...
    external_id: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
