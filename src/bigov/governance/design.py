"""Governance design as data: import and export in YAML or XLSX, validation, built-in templates.

A design document is a list of nodes, each with its parent (the node it escalates to), cadence and
sitting day, chair and members, scope (work items, org units, OTCs), tolerances, and standing
agenda whose items hold information definitions. See ``templates/*.yaml`` for complete examples
and ``docs/governance.md`` for the format.

What callers may rely on: :func:`import_design` validates the whole document first — unknown
fields' values, a node without a cadence, a cycle in the escalation graph, tolerances out of range,
an information definition naming a source or field that does not exist, references to people,
work or units that do not exist — and raises one :class:`ValidationError` listing *every* problem
(file, sheet, row, column) with nothing changed. Otherwise it upserts the nodes by code, replacing
each imported node's members, scope, tolerances and agenda, in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import delete, select

from bigov import safeload
from bigov.codes import design_code_problems
from bigov.errors import BigovError, ConfigError, Problem, ValidationError
from bigov.governance.models import (
    AgendaItem,
    AgendaSection,
    Cadence,
    GovernanceNode,
    InfoForm,
    InformationDefinition,
    NodeKind,
    NodeMember,
    NodeScope,
    Tolerance,
    ToleranceDimension,
)
from bigov.governance.sources import resolve_source
from bigov.org.models import OrgUnit, Person
from bigov.strategy.models import Otc
from bigov.work.models import WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace

# Inclusive ranges a tolerance may take on each dimension.
TOLERANCE_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    ToleranceDimension.COST_PCT.value: (Decimal(0), Decimal(1000)),
    ToleranceDimension.SCHEDULE_DAYS.value: (Decimal(0), Decimal(3650)),
    ToleranceDimension.BENEFIT_PCT.value: (Decimal(0), Decimal(100)),
    ToleranceDimension.RISK_SCORE.value: (Decimal(1), Decimal(25)),
    ToleranceDimension.CONFIDENCE.value: (Decimal(1), Decimal(5)),
}
# node rule settings (bigov.governance.rules.RuleSettings) a design may set, and their ranges
RULE_SETTING_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "min_cost_pct": (Decimal(0), Decimal(1000)),
    "min_schedule_days": (Decimal(0), Decimal(3650)),
    "min_benefit_pct": (Decimal(0), Decimal(100)),
    "default_risk_appetite": (Decimal(1), Decimal(25)),
    "red_confidence_score": (Decimal(1), Decimal(5)),
    "run_change_pp": (Decimal(0), Decimal(100)),
    "resource_over_pct": (Decimal(0), Decimal(1000)),
    # data calls (bigov.datacall): data is due this many working days before each sitting
    "data_cutoff_days": (Decimal(0), Decimal(60)),
}
GRAINS = ("week", "month", "quarter", "year")
TEMPLATES = {
    "typical": "typical.yaml",
    "small-company": "small_company.yaml",
    "uk-public-sector": "uk_public_sector.yaml",
}


@dataclass(frozen=True)
class Where:
    file: str
    sheet: str | None = None
    row: int | None = None


# -- reading ---------------------------------------------------------------------------------
def load_document(path: Path) -> tuple[list[dict[str, Any]], dict[int, Where]]:
    """Nodes of a YAML or XLSX design file, and where each node came from (by list index).

    Raises:
        ConfigError: unreadable file or unknown extension.
        ValidationError: the YAML is not a design document.
    """
    if not path.exists():
        raise ConfigError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            data = safeload.load_yaml(safeload.read_text(path), path.name)
        except yaml.YAMLError as exc:
            raise ValidationError(
                f"{path.name} is not valid YAML",
                [Problem(str(exc).splitlines()[0], file=path.name)],
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            raise ValidationError(
                f"{path.name} is not a governance design",
                [Problem("expected a mapping with a 'nodes' list", file=path.name)],
            )
        nodes = [n if isinstance(n, dict) else {"_bad": n} for n in data["nodes"]]
        return nodes, {i: Where(path.name, None, i + 1) for i in range(len(nodes))}
    if suffix == ".xlsx":
        try:
            return _load_xlsx(path)
        except BigovError:
            raise
        except (
            Exception
        ) as exc:  # openpyxl reports a damaged part with whatever its XML layer raised
            raise ValidationError(
                f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}: {exc})"
            ) from None
    raise ConfigError(f"unsupported design file {path.name}: use .yaml, .yml or .xlsx")


def _rows(wb: Any, name: str) -> list[tuple[int, dict[str, Any]]]:
    if name not in wb.sheetnames:
        return []
    sheet = wb[name]
    safeload.check_sheet_extent("design workbook", name, sheet.max_row, sheet.max_column)
    it = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it, ())]
    out = []
    for i, values in enumerate(it, start=2):
        if values is None or all(v is None or v == "" for v in values):
            continue
        out.append((i, {h: v for h, v in zip(header, values, strict=False) if h}))
    return out


def _load_xlsx(path: Path) -> tuple[list[dict[str, Any]], dict[int, Where]]:
    from openpyxl import load_workbook

    safeload.check_size(path, "xlsx")
    safeload.check_xlsx(path)  # before openpyxl parses: zip bombs and DOCTYPEs
    # from bytes: a workbook openpyxl fails to read must not leave its file open
    wb = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    nodes: list[dict[str, Any]] = []
    where: dict[int, Where] = {}
    index: dict[str, dict[str, Any]] = {}
    for row, r in _rows(wb, "Nodes"):
        node = {
            k: r.get(k)
            for k in (
                "code",
                "name",
                "kind",
                "parent",
                "cadence",
                "sitting_day",
                "chair",
                "org_unit",
                "purpose",
            )
        }
        node.update(members=[], scope={}, tolerances={}, rules={}, agenda=[])
        where[len(nodes)] = Where(path.name, "Nodes", row)
        nodes.append(node)
        index[str(node["code"])] = node

    def owner(sheet: str, row: int, code: Any) -> dict[str, Any] | None:
        node = index.get(str(code))
        if node is None:
            raise ValidationError(
                f"{path.name}: {sheet} row {row} names node {code!r}, "
                "which is not on the Nodes sheet",
                [
                    Problem(
                        "unknown node",
                        file=path.name,
                        sheet=sheet,
                        row=row,
                        column="node",
                        value=str(code),
                    )
                ],
            )
        return node

    for row, r in _rows(wb, "Tolerances"):
        n = owner("Tolerances", row, r.get("node"))
        assert n is not None
        n["tolerances"][str(r.get("dimension"))] = r.get("limit")
    for row, r in _rows(wb, "Rules"):
        n = owner("Rules", row, r.get("node"))
        assert n is not None
        n["rules"][str(r.get("setting"))] = r.get("value")
    for row, r in _rows(wb, "Members"):
        n = owner("Members", row, r.get("node"))
        assert n is not None
        n["members"].append({"person": r.get("person"), "role": r.get("role")})
    for row, r in _rows(wb, "Scope"):
        n = owner("Scope", row, r.get("node"))
        assert n is not None
        for key in ("work_items", "org_units", "otcs"):
            if r.get(key[:-1]):
                n["scope"].setdefault(key, []).append(r.get(key[:-1]))
    agenda_index: dict[tuple[str, int], dict[str, Any]] = {}
    for row, r in _rows(wb, "Agenda"):
        n = owner("Agenda", row, r.get("node"))
        assert n is not None
        item: dict[str, Any] = {
            "sequence": r.get("sequence"),
            "section": r.get("section"),
            "title": r.get("title"),
            "information": [],
        }
        n["agenda"].append(item)
        agenda_index[(str(r.get("node")), int(r.get("sequence") or 0))] = item
    for row, r in _rows(wb, "Information"):
        akey = (str(r.get("node")), int(r.get("agenda_sequence") or 0))
        found = agenda_index.get(akey)
        if found is None:
            raise ValidationError(
                f"{path.name}: Information row {row} names agenda item {akey}, "
                "which does not exist",
                [
                    Problem(
                        "unknown agenda item",
                        file=path.name,
                        sheet="Information",
                        row=row,
                        column="agenda_sequence",
                        value=str(akey[1]),
                    )
                ],
            )
        found["information"].append(
            {
                k: r.get(k)
                for k in (
                    "code",
                    "title",
                    "source",
                    "grain",
                    "form",
                    "required",
                    "freshness_days",
                    "owner",
                    "assured",
                )
            }
        )
    return nodes, where


# -- validating ------------------------------------------------------------------------------
class _Checker:
    def __init__(self, ws: Workspace, nodes: list[dict[str, Any]], where: dict[int, Where]) -> None:
        self.nodes = nodes
        self.where = where
        self.problems: list[Problem] = []
        with ws.session() as s:
            self.db_parents: dict[str, str | None] = {}
            ids = dict(s.execute(select(GovernanceNode.id, GovernanceNode.code)).all())
            for code, parent_id in s.execute(select(GovernanceNode.code, GovernanceNode.parent_id)):
                self.db_parents[code] = ids.get(parent_id) if parent_id else None
            self.people = set(s.scalars(select(Person.code)))
            self.items = set(s.scalars(select(WorkItem.code)))
            self.units = set(s.scalars(select(OrgUnit.code)))
            self.otcs = set(s.scalars(select(Otc.code)))

    def _numbers(
        self,
        i: int,
        code: Any,
        values: Any,
        field: str,
        what: str,
        ranges: dict[str, tuple[Decimal, Decimal]],
        key_word: str = "",
    ) -> None:
        """Check a mapping of names to numbers (a node's tolerances or rule settings): every
        name known, every value a number inside its documented range."""
        if not values:
            return
        if not isinstance(values, dict):
            self.add(i, field, f"{field} must map a {what} to a number")
            return
        for key, raw in values.items():
            if key not in ranges:
                name = f"{what} {key_word}".strip()
                self.add(i, field, f"unknown {name} {key!r}; use {', '.join(ranges)}", key)
                continue
            try:
                value = Decimal(str(raw))
            except InvalidOperation:
                self.add(i, f"{field}.{key}", f"{what} {key} must be a number", raw)
                continue
            lo, hi = ranges[key]
            if not lo <= value <= hi:
                self.add(
                    i,
                    f"{field}.{key}",
                    f"{what} {key} of node {code} is {value}: out of range {lo}–{hi}",
                    raw,
                )

    def add(self, i: int, column: str, reason: str, value: Any = None) -> None:
        w = self.where.get(i, Where("design"))
        self.problems.append(
            Problem(
                reason,
                file=w.file,
                sheet=w.sheet,
                row=w.row,
                column=column,
                value=None if value is None else str(value),
            )
        )

    def check(self) -> None:
        seen: dict[str, int] = {}
        for i, n in enumerate(self.nodes):
            code = n.get("code")
            if not code or not isinstance(code, str):
                self.add(i, "code", "a node needs a code")
                continue
            if code in seen:
                self.add(i, "code", f"node {code} appears twice", code)
            seen[code] = i
        for i, n in enumerate(self.nodes):
            self._node(i, n, seen)
        self._cycles(seen)

    def _enum(
        self, i: int, column: str, value: Any, enum_cls: Any, *, required: bool = True
    ) -> None:
        if value is None or value == "":
            if required:
                self.add(i, column, f"{column} is required")
            return
        values = [e.value for e in enum_cls]
        if str(value) not in values:
            self.add(i, column, f"{column} must be one of {', '.join(values)}", value)

    def _node(self, i: int, n: dict[str, Any], codes: dict[str, int]) -> None:
        code = n.get("code")
        if not n.get("name"):
            self.add(i, "name", f"node {code} has no name")
        self._enum(i, "kind", n.get("kind"), NodeKind)
        if not n.get("cadence"):
            self.add(i, "cadence", f"node {code} has no cadence: say how often it sits")
        else:
            self._enum(i, "cadence", n.get("cadence"), Cadence)
        day = n.get("sitting_day")
        if day is not None and day != "":
            limit = 7 if n.get("cadence") in ("weekly", "fortnightly") else 31
            if not isinstance(day, int) or not 1 <= day <= limit:
                self.add(
                    i,
                    "sitting_day",
                    f"sitting_day must be 1–{limit} for a {n.get('cadence')} node",
                    day,
                )
        parent = n.get("parent")
        if parent and parent not in codes and parent not in self.db_parents:
            self.add(
                i, "parent", f"node {code} escalates to {parent}, which does not exist", parent
            )
        if parent == code:
            self.add(i, "parent", f"node {code} escalates to itself", parent)
        for ref, pool, what in (
            ("chair", self.people, "person"),
            ("org_unit", self.units, "org unit"),
        ):
            if n.get(ref) and n[ref] not in pool:
                self.add(i, ref, f"no {what} with code {n[ref]}", n[ref])
        for m in n.get("members") or []:
            if not isinstance(m, dict) or m.get("person") not in self.people:
                self.add(
                    i,
                    "members",
                    f"no person with code {m.get('person') if isinstance(m, dict) else m}",
                    m,
                )
        scope = n.get("scope") or {}
        if not isinstance(scope, dict):
            self.add(i, "scope", "scope must be a mapping of work_items / org_units / otcs")
            scope = {}
        for key, pool in (
            ("work_items", self.items),
            ("org_units", self.units),
            ("otcs", self.otcs),
        ):
            for ref in scope.get(key) or []:
                if ref not in pool:
                    self.add(
                        i, f"scope.{key}", f"no {key[:-1].replace('_', ' ')} with code {ref}", ref
                    )
        self._numbers(
            i, code, n.get("tolerances"), "tolerances", "tolerance", TOLERANCE_RANGES, "dimension"
        )
        self._numbers(i, code, n.get("rules"), "rules", "rule setting", RULE_SETTING_RANGES)
        sequences: set[Any] = set()
        for a in n.get("agenda") or []:
            if not isinstance(a, dict):
                self.add(i, "agenda", "an agenda item must be a mapping")
                continue
            self._enum(i, "agenda.section", a.get("section"), AgendaSection)
            if not a.get("title"):
                self.add(i, "agenda.title", "an agenda item needs a title")
            seq = a.get("sequence")
            if seq in sequences:
                self.add(
                    i, "agenda.sequence", f"agenda sequence {seq} used twice in node {code}", seq
                )
            sequences.add(seq)
            for d in a.get("information") or []:
                self._info(i, d)

    def _info(self, i: int, d: Any) -> None:
        if not isinstance(d, dict):
            self.add(i, "information", "an information definition must be a mapping")
            return
        if not d.get("title"):
            self.add(i, "information.title", "an information definition needs a title")
        try:
            resolve_source(str(d.get("source") or ""))
        except ValueError as exc:
            self.add(i, "information.source", str(exc), d.get("source"))
        if d.get("form"):
            self._enum(i, "information.form", d.get("form"), InfoForm)
        if d.get("grain") and d["grain"] not in GRAINS:
            self.add(
                i, "information.grain", f"grain must be one of {', '.join(GRAINS)}", d["grain"]
            )
        fresh = d.get("freshness_days")
        if fresh is not None and (not isinstance(fresh, int) or fresh < 0):
            self.add(
                i, "information.freshness_days", "freshness_days must be a whole number ≥ 0", fresh
            )
        if d.get("assured") not in (None, "", True, False):
            self.add(i, "information.assured", "assured must be true or false", d["assured"])
        if d.get("owner") and d["owner"] not in self.people:
            self.add(i, "information.owner", f"no person with code {d['owner']}", d["owner"])

    def _cycles(self, codes: dict[str, int]) -> None:
        parents = dict(self.db_parents)
        for n in self.nodes:
            if isinstance(n.get("code"), str):
                parents[n["code"]] = n.get("parent") or None
        reported: set[str] = set()
        for start in codes:
            path: list[str] = []
            cur: str | None = start
            while cur is not None and cur not in path:
                path.append(cur)
                cur = parents.get(cur)
            if cur is not None:
                loop = [*path[path.index(cur) :], cur]
                key = "→".join(sorted(set(loop)))
                if key not in reported:
                    reported.add(key)
                    self.add(
                        codes[start],
                        "parent",
                        f"cycle in the escalation graph: {' → '.join(loop)}",
                        start,
                    )


def validate(ws: Workspace, nodes: list[dict[str, Any]], where: dict[int, Where]) -> list[Problem]:
    """Every problem of a design document (empty when it can be imported)."""
    checker = _Checker(ws, nodes, where)
    checker.check()
    for i, column, reason, value in design_code_problems(nodes):  # the one rule for codes
        checker.add(i, column, reason, value)
    return checker.problems


# -- writing ---------------------------------------------------------------------------------
def import_design(ws: Workspace, path: Path, *, written_by: str | None = None) -> dict[str, int]:
    """Validate and import a design file; returns counts of what was written.

    Raises:
        ValidationError: any problem (all are listed; nothing is changed).
        ConfigError: unreadable file.
    """
    nodes, where = load_document(path)
    return _apply(ws, nodes, where, path.name, written_by)


def _apply(
    ws: Workspace,
    nodes: list[dict[str, Any]],
    where: dict[int, Where],
    name: str,
    written_by: str | None,
) -> dict[str, int]:
    problems = validate(ws, nodes, where)
    if problems:
        raise ValidationError(
            f"{name}: {len(problems)} problem(s) in the governance design; nothing was imported",
            problems,
        )
    counts = {
        "nodes": 0,
        "tolerances": 0,
        "agenda_items": 0,
        "information": 0,
        "members": 0,
        "scope": 0,
    }
    with ws.session() as s:
        people = dict(s.execute(select(Person.code, Person.id)).all())
        items = dict(s.execute(select(WorkItem.code, WorkItem.id)).all())
        units = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        otcs = dict(s.execute(select(Otc.code, Otc.id)).all())
        by_code = {n.code: n for n in s.scalars(select(GovernanceNode))}
        for n in nodes:
            row = by_code.get(n["code"])
            if row is None:
                row = GovernanceNode(code=n["code"], name=n["name"], kind=NodeKind(n["kind"]))
                s.add(row)
                by_code[n["code"]] = row
            row.name = n["name"]
            row.kind = NodeKind(n["kind"])
            row.cadence = Cadence(n["cadence"])
            row.sitting_day = n.get("sitting_day") or None
            row.chair_id = people.get(n["chair"]) if n.get("chair") else None
            row.org_unit_id = units.get(n["org_unit"]) if n.get("org_unit") else None
            row.purpose = n.get("purpose")
            row.rules = {k: float(v) for k, v in sorted((n.get("rules") or {}).items())} or None
            row.written_by = written_by
            counts["nodes"] += 1
        s.flush()
        for n in nodes:
            row = by_code[n["code"]]
            row.parent_id = by_code[n["parent"]].id if n.get("parent") else None
            for model in (NodeMember, NodeScope, Tolerance, AgendaItem):
                s.execute(delete(model).where(model.node_id == row.id))
        s.flush()
        for n in nodes:
            row = by_code[n["code"]]
            code = row.code
            for dim, limit in sorted((n.get("tolerances") or {}).items()):
                s.add(
                    Tolerance(
                        code=f"{code}-TOL-{dim}",
                        node_id=row.id,
                        dimension=ToleranceDimension(dim),
                        limit=Decimal(str(limit)),
                        written_by=written_by,
                    )
                )
                counts["tolerances"] += 1
            for m in n.get("members") or []:
                s.add(
                    NodeMember(
                        code=f"{code}-M-{m['person']}",
                        node_id=row.id,
                        person_id=people[m["person"]],
                        role=m.get("role"),
                        written_by=written_by,
                    )
                )
                counts["members"] += 1
            k = 0
            scope = n.get("scope") or {}
            for key, pool, col in (
                ("work_items", items, "work_item_id"),
                ("org_units", units, "org_unit_id"),
                ("otcs", otcs, "otc_id"),
            ):
                for ref in scope.get(key) or []:
                    k += 1
                    s.add(
                        NodeScope(
                            code=f"{code}-S{k}",
                            node_id=row.id,
                            written_by=written_by,
                            **{col: pool[ref]},
                        )
                    )
                    counts["scope"] += 1
            for seq, a in enumerate(n.get("agenda") or [], start=1):
                sequence = int(a.get("sequence") or seq)
                item = AgendaItem(
                    code=f"{code}-A{sequence}",
                    node_id=row.id,
                    sequence=sequence,
                    section=AgendaSection(a["section"]),
                    title=a["title"],
                    written_by=written_by,
                )
                s.add(item)
                s.flush()
                counts["agenda_items"] += 1
                for j, d in enumerate(a.get("information") or [], start=1):
                    s.add(
                        InformationDefinition(
                            code=d.get("code") or f"{code}-A{sequence}-I{j}",
                            agenda_item_id=item.id,
                            title=d["title"],
                            source=d["source"],
                            grain=d.get("grain") or "month",
                            form=InfoForm(d.get("form") or "table"),
                            required=bool(d.get("required", True)),
                            freshness_days=d.get("freshness_days"),
                            owner_id=people.get(d["owner"]) if d.get("owner") else None,
                            assurance_required=bool(d.get("assured")),
                            written_by=written_by,
                        )
                    )
                    counts["information"] += 1
    return counts


def apply_template(
    ws: Workspace, template: str, *, written_by: str | None = None
) -> dict[str, int]:
    """Import a built-in template (``typical``, ``small-company``, ``uk-public-sector``).

    Raises:
        ConfigError: unknown template.
    """
    if template not in TEMPLATES:
        raise ConfigError(f"unknown template {template!r}; choose from {', '.join(TEMPLATES)}")
    text = (
        resources.files("bigov.governance")
        .joinpath("templates", TEMPLATES[template])
        .read_text("utf-8")
    )
    data = safeload.load_yaml(text, TEMPLATES[template])
    nodes = data["nodes"]
    return _apply(
        ws,
        nodes,
        {i: Where(TEMPLATES[template], None, i + 1) for i in range(len(nodes))},
        TEMPLATES[template],
        written_by or f"template:{template}",
    )


def read_design(ws: Workspace) -> dict[str, Any]:
    """The stored design as a document :func:`import_design` accepts (round trip)."""
    with ws.session() as s:
        people = dict(s.execute(select(Person.id, Person.code)).all())
        items = dict(s.execute(select(WorkItem.id, WorkItem.code)).all())
        units = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
        otcs = dict(s.execute(select(Otc.id, Otc.code)).all())
        rows = list(s.scalars(select(GovernanceNode).order_by(GovernanceNode.code)))
        codes = {n.id: n.code for n in rows}
        out: dict[int, dict[str, Any]] = {}
        for n in rows:
            out[n.id] = {
                "code": n.code,
                "name": n.name,
                "kind": n.kind.value,
                "parent": codes.get(n.parent_id) if n.parent_id else None,
                "cadence": n.cadence.value,
                "sitting_day": n.sitting_day,
                "chair": people.get(n.chair_id) if n.chair_id else None,
                "org_unit": units.get(n.org_unit_id) if n.org_unit_id else None,
                "purpose": n.purpose,
                "members": [],
                "scope": {},
                "tolerances": {},
                "rules": dict(sorted((n.rules or {}).items())),
                "agenda": [],
            }
        for t in s.scalars(select(Tolerance).order_by(Tolerance.code)):
            out[t.node_id]["tolerances"][t.dimension.value] = float(t.limit)
        for m in s.scalars(select(NodeMember).order_by(NodeMember.code)):
            out[m.node_id]["members"].append({"person": people[m.person_id], "role": m.role})
        for sc in s.scalars(select(NodeScope).order_by(NodeScope.code)):
            scope = out[sc.node_id]["scope"]
            if sc.work_item_id:
                scope.setdefault("work_items", []).append(items[sc.work_item_id])
            if sc.org_unit_id:
                scope.setdefault("org_units", []).append(units[sc.org_unit_id])
            if sc.otc_id:
                scope.setdefault("otcs", []).append(otcs[sc.otc_id])
        agenda: dict[int, dict[str, Any]] = {}
        for a in s.scalars(select(AgendaItem).order_by(AgendaItem.node_id, AgendaItem.sequence)):
            entry: dict[str, Any] = {
                "sequence": a.sequence,
                "section": a.section.value,
                "title": a.title,
                "information": [],
            }
            agenda[a.id] = entry
            out[a.node_id]["agenda"].append(entry)
        for d in s.scalars(select(InformationDefinition).order_by(InformationDefinition.code)):
            agenda[d.agenda_item_id]["information"].append(
                {
                    "code": d.code,
                    "title": d.title,
                    "source": d.source,
                    "grain": d.grain,
                    "form": d.form.value,
                    "required": d.required,
                    "freshness_days": d.freshness_days,
                    "owner": people.get(d.owner_id) if d.owner_id else None,
                    "assured": d.assurance_required,
                }
            )
    return {"nodes": list(out.values())}


def export_design(ws: Workspace, path: Path) -> Path:
    """Write the stored design to ``path`` (.yaml/.yml or .xlsx), ready to edit and re-import.

    Raises:
        ConfigError: unsupported extension.
    """
    doc = read_design(ws)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path
    if suffix != ".xlsx":
        raise ConfigError(f"unsupported design file {path.name}: use .yaml, .yml or .xlsx")
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    sheets: dict[str, list[str]] = {
        "Nodes": [
            "code",
            "name",
            "kind",
            "parent",
            "cadence",
            "sitting_day",
            "chair",
            "org_unit",
            "purpose",
        ],
        "Tolerances": ["node", "dimension", "limit"],
        "Rules": ["node", "setting", "value"],
        "Members": ["node", "person", "role"],
        "Scope": ["node", "work_item", "org_unit", "otc"],
        "Agenda": ["node", "sequence", "section", "title"],
        "Information": [
            "node",
            "agenda_sequence",
            "code",
            "title",
            "source",
            "grain",
            "form",
            "required",
            "freshness_days",
            "owner",
            "assured",
        ],
    }
    ws_ = {name: wb.create_sheet(name) for name in sheets}
    for name, header in sheets.items():
        ws_[name].append(header)
    for n in doc["nodes"]:
        ws_["Nodes"].append([n[k] for k in sheets["Nodes"]])
        for dim, limit in n["tolerances"].items():
            ws_["Tolerances"].append([n["code"], dim, limit])
        for key, value in (n.get("rules") or {}).items():
            ws_["Rules"].append([n["code"], key, value])
        for m in n["members"]:
            ws_["Members"].append([n["code"], m["person"], m["role"]])
        for key, col in (("work_items", 1), ("org_units", 2), ("otcs", 3)):
            for ref in n["scope"].get(key, []):
                row: list[Any] = [n["code"], None, None, None]
                row[col] = ref
                ws_["Scope"].append(row)
        for a in n["agenda"]:
            ws_["Agenda"].append([n["code"], a["sequence"], a["section"], a["title"]])
            for d in a["information"]:
                ws_["Information"].append(
                    [n["code"], a["sequence"]] + [d[k] for k in sheets["Information"][2:]]
                )
    wb.save(path)
    return path


__all__ = [
    "TEMPLATES",
    "TOLERANCE_RANGES",
    "apply_template",
    "export_design",
    "import_design",
    "load_document",
    "read_design",
    "validate",
]
