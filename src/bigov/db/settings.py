"""Workspace settings stored in the database itself, so every front end sees the same calendar."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base


class Setting(AuditMixin, Base):
    """One key/value setting (``fiscal_year_start_month``, ``currency``, ``timezone``, ...)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024))


DEFAULTS: dict[str, str] = {
    "organisation_name": "My organisation",
    "fiscal_year_start_month": "4",  # UK public sector and many UK companies start in April
    "currency": "GBP",
    "timezone": "Europe/London",
    # where raw metric observations are kept; empty = a folder beside the SQLite file
    "metrics_store_dir": "",
    # where scheduled cycles write their packs (shared by every worker: a shared volume);
    # empty = a folder beside the SQLite file, none on PostgreSQL until set
    "packs_dir": "",
    "pack_formats": "html,pdf,xlsx",
    # the schedule from cadences: the cut-off (readiness checks, reminders) this many working
    # days before a sitting for nodes whose design sets no `data_cutoff_days`; packs ready this
    # many days before the first sitting of the month
    "cutoff_days": "5",
    "pack_lead_days": "3",
    # data calls (bigov datacall): remind this many days before a due date, copy the manager
    # or PMO once this many days overdue, the PMO address, and the base of links in emails
    "datacall_remind_days": "5",
    "datacall_escalate_days": "3",
    "datacall_pmo_email": "",
    "public_url": "http://localhost:8000",
}
