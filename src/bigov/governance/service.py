"""Queries and commands of the governance context: the facade the CLI, API, web and tests call.

Every method opens its own unit of work; none prints. The modules behind it each hold one concept:
:mod:`~bigov.governance.cycle` (running and reading cycles), :mod:`~bigov.governance.rules`
(exception rules), :mod:`~bigov.governance.readiness`, :mod:`~bigov.governance.decisions`,
:mod:`~bigov.governance.design` (import/export/templates) and :mod:`~bigov.governance.propose`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigov.db.service import Service
from bigov.governance import cycle as _cycle
from bigov.governance.rules import RuleSettings
from bigov.progress import SILENT, Reporter

if TYPE_CHECKING:
    from bigov.errors import Problem
    from bigov.governance.decisions import DecisionEntry, Recorded


class GovernanceService(Service):
    """Governance design, cycles, exceptions, decisions and packs."""

    # -- cycles ------------------------------------------------------------------------------
    def run_cycle(
        self,
        node: str,
        period: str,
        *,
        as_at: dt.date | None = None,
        new_version: bool = False,
        publish: bool = True,
        out_dir: Path | None = None,
        formats: Sequence[str] = ("html",),
        settings: RuleSettings | None = None,
        shared: _cycle.SharedInputs | None = None,
    ) -> _cycle.CycleResult:
        """See :func:`bigov.governance.cycle.run_cycle`."""
        return _cycle.run_cycle(
            self.ws,
            node,
            period,
            as_at=as_at,
            new_version=new_version,
            publish=publish,
            out_dir=out_dir,
            formats=formats,
            settings=settings,
            shared=shared,
        )

    def run_all(
        self,
        period: str,
        *,
        as_at: dt.date | None = None,
        new_version: bool = False,
        publish: bool = True,
        out_dir: Path | None = None,
        formats: Sequence[str] = ("html",),
        settings: RuleSettings | None = None,
        reporter: Reporter = SILENT,
        skip_published: bool = False,
    ) -> list[_cycle.CycleResult]:
        """See :func:`bigov.governance.cycle.run_all`."""
        return _cycle.run_all(
            self.ws,
            period,
            as_at=as_at,
            new_version=new_version,
            publish=publish,
            out_dir=out_dir,
            formats=formats,
            settings=settings,
            reporter=reporter,
            skip_published=skip_published,
        )

    def publish(self, code: str) -> str:
        """See :func:`bigov.governance.cycle.publish`."""
        return _cycle.publish(self.ws, code)

    def check(
        self, node: str, period: str, *, as_at: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Data readiness of ``node`` for ``period``; see :mod:`bigov.governance.readiness`."""
        return _cycle.check_readiness(self.ws, node, period, as_at)

    def cycle_document(self, code: str) -> dict[str, Any]:
        """The frozen snapshot document of a cycle (what its packs are rendered from)."""
        return _cycle.cycle_document(self.ws, code)

    def list_cycles(
        self, *, node: str | None = None, period: str | None = None
    ) -> list[dict[str, Any]]:
        """See :func:`bigov.governance.cycle.list_cycles`."""
        return _cycle.list_cycles(self.ws, node, period)

    def write_packs(
        self, code: str, out_dir: Path, formats: Sequence[str] = ("html",)
    ) -> dict[str, str]:
        """Render a stored cycle's packs into ``out_dir``; returns format → path."""
        return _cycle.write_packs(self.ws, code, out_dir, formats)

    # -- decisions ---------------------------------------------------------------------------
    def add_decision(
        self,
        cycle: str,
        title: str,
        *,
        kind: str = "decision",
        items: Sequence[str] = (),
        exception: str | None = None,
        owner: str | None = None,
        due: dt.date | None = None,
        description: str | None = None,
        written_by: str | None = None,
        decided_on: dt.date | None = None,
        otcs: Sequence[str] = (),
        otc_version: str | None = None,
    ) -> str:
        """Record a decision or action at ``cycle``; returns its code. ``otcs`` are "CODE" (at
        the version in force on the day) or "CODE@vN"; ``otc_version`` is one more of the
        latter (the version it decided, e.g. a deadline change). See
        :func:`bigov.governance.decisions.record_decision`."""
        from bigov.governance.decisions import DecisionEntry

        entry = DecisionEntry(
            kind=kind,
            title=title,
            decided_on=decided_on,
            due_on=due,
            items=list(items),
            otcs=[*otcs, *([otc_version] if otc_version else [])],
            exception=exception,
            owner=owner,
            description=description,
        )
        return self.record_decision(cycle, entry, written_by=written_by).code

    def record_decision(
        self,
        cycle: str,
        entry: DecisionEntry,
        *,
        written_by: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> Recorded:
        """See :func:`bigov.governance.decisions.record_decision`."""
        from bigov.governance.decisions import record_decision

        return record_decision(self.ws, cycle, entry, written_by=written_by, problems=problems)

    def decisions(
        self, *, node: str | None = None, cycle: str | None = None
    ) -> list[dict[str, Any]]:
        """See :func:`bigov.governance.decisions.list_decisions`."""
        from bigov.governance.decisions import list_decisions

        return list_decisions(self.ws, node=node, cycle=cycle)

    # -- design ------------------------------------------------------------------------------
    def import_design(self, path: Path, *, written_by: str | None = None) -> dict[str, int]:
        """See :func:`bigov.governance.design.import_design`."""
        from bigov.governance.design import import_design

        return import_design(self.ws, path, written_by=written_by)

    def export_design(self, path: Path) -> Path:
        """See :func:`bigov.governance.design.export_design`."""
        from bigov.governance.design import export_design

        return export_design(self.ws, path)

    def init_template(self, template: str, *, written_by: str | None = None) -> dict[str, int]:
        """See :func:`bigov.governance.design.apply_template`."""
        from bigov.governance.design import apply_template

        return apply_template(self.ws, template, written_by=written_by)

    def design(self) -> dict[str, Any]:
        """The current governance design as a plain document (what export writes)."""
        from bigov.governance.design import read_design

        return read_design(self.ws)

    def propose(self) -> Any:
        """See :func:`bigov.governance.propose.propose`."""
        from bigov.governance.propose import propose

        return propose(self.ws)
