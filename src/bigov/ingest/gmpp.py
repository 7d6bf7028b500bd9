"""The ``gmpp`` importer: UK Government Major Projects Portfolio annual data (preset ``gmpp``).

The published files differ by year: one row per project (2021 on) or one *column* per project
(the transposed layout of 2013–2020), title rows above the header, headers with line breaks and
bracketed notes, money in £m that may be a range ("100 - 150"), "Exempt" or "N/A". The preset's
``columns`` name the published headers of each logical field; this module finds the header row
(or column), reads each project and turns it into bigov rows:

* ``org_unit`` ``<DEPT>`` and portfolio ``work_item`` ``GMPP-<DEPT>`` per department;
* a project ``work_item`` per row: code from the GMPP ID without its joining-quarter suffix
  (``DFT_0040_2021-Q1`` → ``DFT_0040``) so several years land on one project; baseline start and
  end dates; whole-life cost in pounds (a range keeps its midpoint, noted); the SRO as ``owner``;
* a ``person`` per SRO (code ``SRO-<name slug>``);
* a ``status_report`` for the data period with the IPA DCA on the 5-point scale (3-point ratings
  map to green / amber / red; "Exempt", "Reset", ... leave no rating and say so in the narrative);
* a ``cost_line`` dated the first month of the financial year holding the period, with the
  financial-year baseline as budget and forecast as forecast (omitted when exempt).

The period comes from ``--option period=yyyy-mm``, else from the file name (``September_2019``,
``2023-03``; a bare year means March from 2021 on, September before, when the snapshots were
taken).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from bigov.errors import Problem, ValidationError
from bigov.ingest.mapping import Mapping, RecordSet, normalise_header
from bigov.ingest.parse import ParseError, enum_key, is_empty, parse_date, parse_decimal
from bigov.ingest.readers import SourceTable, read_tables
from bigov.ingest.registry import ImportOptions, register
from bigov.work.models import Confidence

MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_ID_SUFFIX = re.compile(r"^(.*?)[_\- ]?(\d{4}|\d{2})[-_ ]?Q[1-4]$", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(.+?)\s*(?:-|–|—|to)\s*(.+?)\s*$")
_UNIT = re.compile(r"(bn|billion|m|million)\s*$", re.IGNORECASE)
_HEADER_MIN = 3

CONFIDENCE_WORDS: dict[str, Confidence] = {
    enum_key("green"): Confidence.GREEN,
    enum_key("amber/green"): Confidence.AMBER_GREEN,
    enum_key("amber green"): Confidence.AMBER_GREEN,
    enum_key("amber"): Confidence.AMBER,
    enum_key("amber/red"): Confidence.AMBER_RED,
    enum_key("red"): Confidence.RED,
}


def slug(text: str, length: int = 40) -> str:
    """Upper-case code text: letters and digits, other runs as ``-``."""
    return re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-").upper()[:length] or "X"


def project_code(gmpp_id: str, how: str = "strip_suffix") -> str:
    """The project's bigov code from its GMPP ID (``DFT_0040_2021-Q1`` → ``DFT_0040``)."""
    text = gmpp_id.strip().upper()
    if how == "full_id":
        return text
    m = _ID_SUFFIX.match(text)
    return m.group(1).rstrip("_- ") if m and m.group(1) else text


def money_millions(value: Any) -> tuple[Decimal | None, str | None]:
    """£m from a cell: (amount, note). ``Exempt``/``N/A`` → (None, note); a range → midpoint;
    ``1.2bn`` → 1200. Raises ParseError for text that is none of these."""
    if is_empty(value):
        return None, None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return parse_decimal(value), None
    text = str(value).strip()
    low = text.casefold()
    if re.match(r"^(exempt|not |n/?a\b|tbc|withheld|commercially|redacted|nil\b)", low):
        return None, f"{text[:80]}"
    m = _RANGE.match(text.replace("£", ""))
    if m and not text.lstrip().startswith("-"):
        a, _ = money_millions(m.group(1))
        b, _ = money_millions(m.group(2))
        if a is not None and b is not None:
            return (a + b) / 2, f"range {text} (midpoint kept)"
    number = text.replace("£", "").strip()
    factor = Decimal(1)
    unit = _UNIT.search(number)
    if unit:
        factor = Decimal(1000) if unit.group(1).casefold() in ("bn", "billion") else Decimal(1)
        number = number[: unit.start()]
    parsed = parse_decimal(number)
    return (parsed * factor if parsed is not None else None), None


def rating(value: Any, no_rating: set[str]) -> tuple[Confidence | None, str | None]:
    """The DCA on bigov's 5-point scale, or (None, note) for exempt/reset/blank/unknown."""
    if is_empty(value):
        return None, None
    text = " ".join(str(value).split())
    found = CONFIDENCE_WORDS.get(enum_key(text))
    if found is not None:
        return found, None
    if text.casefold() in no_rating or enum_key(text) in {enum_key(w) for w in no_rating}:
        return None, f"DCA: {text}"
    raise ParseError(
        f"{text!r} is not a delivery confidence rating "
        "(Green, Amber/Green, Amber, Amber/Red, Red, or Exempt/Reset)"
    )


def period_from(options: ImportOptions, path: Path) -> dt.date | None:
    """The data period (month start): ``--option period``, else from the file name."""
    given = options.extra.get("period") or options.mapping.options.get("period")
    if given:
        day = parse_date(str(given))
        return day.replace(day=1) if day else None
    name = path.stem.casefold().replace("_", " ").replace("-", " ")
    year_m = re.search(r"(20\d\d)", name)
    if not year_m:
        return None
    year = int(year_m.group(1))
    for word, month in MONTHS.items():
        if re.search(rf"\b({word}|{word[:3]})\b", name):
            return dt.date(year, month, 1)
    numeric = re.search(r"(20\d\d)[ ]?(0[1-9]|1[0-2])\b", name)
    if numeric:
        return dt.date(year, int(numeric.group(2)), 1)
    return dt.date(year, 3 if year >= 2021 else 9, 1)


class _Matcher:
    def __init__(self, mapping: Mapping) -> None:
        self.exact: dict[str, str] = {}
        self.patterns: list[tuple[re.Pattern[str], str]] = []
        for source, target in mapping.columns.items():
            if not target:
                continue
            if source.startswith("re:"):
                self.patterns.append((re.compile(source[3:]), target))
            else:
                self.exact.setdefault(normalise_header(source), target)

    def field(self, header: Any) -> str | None:
        if header is None:
            return None
        norm = normalise_header(str(header))
        if not norm:
            return None
        if norm in self.exact:
            return self.exact[norm]
        for pattern, target in self.patterns:
            if pattern.fullmatch(norm):
                return target
        return None


def _layout(table: SourceTable, matcher: _Matcher) -> tuple[list[str], list[list[Any]], list[int]]:
    """(headers, rows, row numbers) of the wide layout, transposing the old layout."""
    grid = table.rows
    best_row, best_hits = -1, 0
    for i, row in enumerate(grid[:20]):
        hits = len({f for c in row if (f := matcher.field(c))})
        if hits > best_hits:
            best_row, best_hits = i, hits
    col_hits = len({f for row in grid if row and (f := matcher.field(row[0]))})
    if col_hits > best_hits and col_hits >= _HEADER_MIN:
        # transposed: field names down column A, one project per column
        width = max(len(r) for r in grid)
        headers = [str(r[0]) if r and r[0] is not None else "" for r in grid]
        rows = [[r[c] if c < len(r) else None for r in grid] for c in range(1, width)]
        rows_numbers = list(range(2, width + 1))  # column B is "project 1": reported as column
        keep = [
            (r, n)
            for r, n in zip(rows, rows_numbers, strict=True)
            if any(not is_empty(v) for v in r)
        ]
        return headers, [r for r, _ in keep], [n for _, n in keep]
    if best_hits < _HEADER_MIN:
        raise ValidationError(
            f"{table.file}: no GMPP header row found",
            [
                Problem(
                    "no row (or first column) names at least three GMPP fields "
                    "(GMPP ID Number, Project Name, Department, ...)",
                    file=table.file,
                    sheet=table.sheet,
                )
            ],
            hint="check the file is GMPP data, or copy the preset and add your headers",
        )
    headers = ["" if c is None else str(c) for c in grid[best_row]]
    body = grid[best_row + 1 :]
    numbers = table.row_numbers[best_row + 1 :]
    return headers, body, numbers


@register
class GmppImporter:
    """GMPP annual data through the ``gmpp`` preset (or a copy of it)."""

    name = "gmpp"
    suffixes = (".csv", ".xlsx", ".xlsm")

    def accepts(self, path: Path, options: ImportOptions) -> bool:
        return options.mapping.importer == "gmpp"

    def read(self, path: Path, options: ImportOptions) -> list[RecordSet]:
        mapping = options.mapping
        if not mapping.columns:
            from bigov.ingest.mapping import load_preset

            mapping = load_preset("gmpp")
        tables = read_tables(
            path,
            sheet=mapping.sheet,
            encoding=mapping.encoding,
            header=False,
            max_bytes=options.max_bytes(),
        )
        period = period_from(options, path)
        if period is None:
            raise ValidationError(
                f"{path.name}: cannot tell which period the data is for",
                [Problem("no year in the file name and no --option period", file=path.name)],
                hint="e.g. bigov import FILE --preset gmpp --option period=2023-03",
            )
        builder = _Builder(path.name, period, mapping, options)
        matcher = _Matcher(mapping)
        problems: list[Problem] = []
        found = False
        for table in tables:
            try:
                headers, rows, numbers = _layout(table, matcher)
            except ValidationError as err:
                if len(tables) == 1:
                    raise
                problems.extend(err.problems)
                continue
            found = True
            fields = {i: f for i, h in enumerate(headers) if (f := matcher.field(h))}
            header_of = {f: headers[i] for i, f in fields.items()}
            for row, number in zip(rows, numbers, strict=True):
                values = {f: (row[i] if i < len(row) else None) for i, f in fields.items()}
                if all(is_empty(v) for v in values.values()):
                    continue
                builder.add(values, number, table.sheet, header_of, problems)
        if not found or problems:
            raise ValidationError(
                f"{path.name}: {len(problems)} problem(s); nothing imported", problems
            )
        return builder.recordsets()


class _Builder:
    def __init__(
        self, file: str, period: dt.date, mapping: Mapping, options: ImportOptions
    ) -> None:
        self.file = file
        self.period = period
        opts = mapping.options
        self.factor = Decimal(str(opts.get("money_factor", 1_000_000)))
        fy_start = int(opts.get("fiscal_year_start_month", 4))
        year = period.year if period.month >= fy_start else period.year - 1
        self.fy_period = dt.date(year, fy_start, 1)
        self.code_how = str(
            options.extra.get("project_code", opts.get("project_code", "strip_suffix"))
        )
        self.no_rating = {str(w).casefold() for w in opts.get("no_rating", [])}
        self.departments = {
            normalise_header(k): str(v) for k, v in (opts.get("departments") or {}).items()
        }
        self.units: dict[str, dict[str, Any]] = {}
        self.portfolios: dict[str, dict[str, Any]] = {}
        self.people: dict[str, dict[str, Any]] = {}
        self.projects = RecordSet("work_item", file)
        self.reports = RecordSet("status_report", file)
        self.costs = RecordSet("cost_line", file)

    def _dept(self, values: dict[str, Any], gmpp_id: str | None) -> tuple[str, str]:
        name = " ".join(str(values.get("department") or "").split())
        if gmpp_id and "_" in gmpp_id:
            code = gmpp_id.split("_", 1)[0].upper()
        elif name and normalise_header(name) in self.departments:
            code = self.departments[normalise_header(name)]
        elif name and len(name) <= 10 and " " not in name:
            code = name.upper()
        else:
            code = "".join(
                w[0] for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper()
            ).upper() or slug(name, 10)
        return slug(code, 20), name or code

    def add(
        self,
        values: dict[str, Any],
        row: int,
        sheet: str | None,
        headers: dict[str, str],
        problems: list[Problem],
    ) -> None:
        def problem(reason: str, fieldname: str | None, value: Any = None) -> None:
            problems.append(
                Problem(
                    reason,
                    file=self.file,
                    sheet=sheet,
                    row=row,
                    column=headers.get(fieldname or "", fieldname),
                    value=None if value is None else str(value)[:200],
                )
            )

        notes: list[str] = []
        raw_id = values.get("gmpp_id")
        gmpp_id = None if is_empty(raw_id) else " ".join(str(raw_id).split())
        name = " ".join(str(values.get("project_name") or "").split())
        if not name:
            problem("project name is empty", "project_name")
            return
        dept_code, dept_name = self._dept(values, gmpp_id)
        code = project_code(gmpp_id, self.code_how) if gmpp_id else f"{dept_code}-{slug(name)}"
        self.units.setdefault(
            dept_code, {"code": dept_code, "name": dept_name[:255], "kind": "department"}
        )
        portfolio = f"GMPP-{dept_code}"
        self.portfolios.setdefault(
            portfolio,
            {
                "code": portfolio,
                "name": f"{dept_name} major projects (GMPP)"[:255],
                "kind": "portfolio",
                "nature": "change",
                "org_unit": dept_code,
            },
        )
        project: dict[str, Any] = {
            "code": code,
            "name": name[:255],
            "kind": "project",
            "parent": portfolio,
            "org_unit": dept_code,
            "nature": "change",
            "phase": "delivery",
        }
        description = " ".join(str(values.get("description") or "").split())
        category = " ".join(str(values.get("category") or "").split())
        if category or description:
            project["description"] = (f"[{category}] " if category else "") + description
        start = end = None
        for fieldname in ("start_date", "end_date"):
            try:
                day = parse_date(values.get(fieldname))
            except ParseError:
                day = None
                if not is_empty(values.get(fieldname)):
                    notes.append(f"{fieldname.replace('_', ' ')}: {values.get(fieldname)}")
            if fieldname == "start_date":
                start = day
            else:
                end = day
        if start and end and end < start:
            notes.append(f"end date {end} before start date {start}: end date not loaded")
            end = None
        project["baseline_start"] = start
        project["baseline_finish"] = end
        try:
            wlc, note = money_millions(values.get("wlc"))
            if note:
                notes.append(f"whole-life cost: {note}")
            if wlc is not None and wlc >= 0:
                project["whole_life_cost"] = wlc * self.factor
        except ParseError as exc:
            problem(f"whole-life cost: {exc}", "wlc", values.get("wlc"))
        sro = " ".join(str(values.get("sro") or "").split())
        if sro and sro.casefold() not in ("vacant", "n/a", "tbc"):
            person = f"SRO-{slug(sro)}"
            self.people.setdefault(person, {"code": person, "name": sro[:255]})
            project["owner"] = person
        self.projects.add(project, row)
        try:
            confidence, note = rating(values.get("dca_ipa"), self.no_rating)
        except ParseError as exc:
            problem(str(exc), "dca_ipa", values.get("dca_ipa"))
            return
        if note:
            notes.insert(0, note)
        sro_dca = values.get("dca_sro")
        if not is_empty(sro_dca):
            notes.append(f"SRO DCA: {' '.join(str(sro_dca).split())}")
        try:
            benefits, bnote = money_millions(values.get("benefits"))
            if benefits is not None:
                notes.append(f"monetised benefits £{benefits}m")
            elif bnote:
                notes.append(f"benefits: {bnote}")
        except ParseError:
            notes.append(f"benefits: {values.get('benefits')}")
        narrative = " ".join(str(values.get("dca_narrative") or "").split())
        text = " | ".join(x for x in (*notes, narrative) if x)
        self.reports.add(
            {
                "work_item": code,
                "period": self.period,
                "confidence": confidence.value if confidence else None,
                "narrative": text or None,
            },
            row,
        )
        try:
            base, bnote = money_millions(values.get("fy_baseline"))
            fore, _fnote = money_millions(values.get("fy_forecast"))
        except ParseError as exc:
            problem(f"financial-year cost: {exc}", "fy_baseline")
            return
        if base is not None or fore is not None:
            budget = (base or Decimal(0)) * self.factor
            if budget >= 0:
                self.costs.add(
                    {
                        "work_item": code,
                        "period": self.fy_period,
                        "expenditure": "opex",
                        "budget": budget,
                        "forecast": (fore or Decimal(0)) * self.factor,
                    },
                    row,
                )

    def recordsets(self) -> list[RecordSet]:
        out = [
            RecordSet.from_dicts("org_unit", list(self.units.values()), file=self.file),
            RecordSet.from_dicts("person", list(self.people.values()), file=self.file),
            RecordSet.from_dicts("work_item", list(self.portfolios.values()), file=self.file),
            self.projects,
            self.reports,
            self.costs,
        ]
        return [rs for rs in out if len(rs)]
