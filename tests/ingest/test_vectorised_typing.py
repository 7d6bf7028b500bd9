"""The column-at-once typing agrees, cell by cell, with the per-value parsers it replaces:
same value, or same problem message, for every spelling (property-based)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import dump, write
from sqlalchemy import select

from bigov.errors import ValidationError
from bigov.finance.models import CostLine
from bigov.ingest.mapping import parse_mapping
from bigov.ingest.parse import ParseError
from bigov.ingest.service import import_file, resolve_options
from bigov.ingest.spec import FieldSpec, kind_spec
from bigov.ingest.validate import converter, type_column
from bigov.workspace import Workspace

# characters that matter to the parsers: digits, signs, separators, blanks, letters of
# enum values and booleans, a few non-ASCII look-alikes
ALPHABET = "0123456789+-.,/ ()%£eE_xXnNaAyYtTfF\t\u00a0\x1cßİ"
SPELLINGS = [
    "",
    " ",
    "-",
    "N/A",
    "2024-04-01",
    "2024-4-1",
    "2024-02-31",
    "2024-04",
    "0000-01-01",
    "31/03/2025",
    "Mar-25",
    "45444",
    "1,234.50",
    "(12)",
    "-5",
    "+3",
    "007",
    "1.",
    ".5",
    "1.005",
    "1e3",
    "12345678901234567",
    "capex",
    "CAPEX",
    " opex ",
    "Amber/Green",
    "amber - red",
    "yes",
    "No",
    "x",
    "true ",
]

FIELDS: list[tuple[str, str]] = [
    ("cost_line", "budget"),  # decimal, not negative
    ("cost_line", "actual"),  # decimal
    ("cost_line", "period"),  # date
    ("cost_line", "expenditure"),  # enum
    ("cost_line", "currency"),  # str(3)
    ("cost_line", "work_item"),  # ref
    ("status_report", "confidence"),  # enum with slashes
    ("milestone", "is_key"),  # bool
    ("agenda_item", "sequence"),  # int
]


def _expected(f: FieldSpec, values: list[Any], mapping: Any = None) -> list[tuple[bool, Any]]:
    conv = converter(f, mapping)
    out: list[tuple[bool, Any]] = []
    for v in values:
        try:
            out.append((True, conv(v)))
        except ParseError as exc:
            out.append((False, str(exc)))
    return out


def _actual(f: FieldSpec, values: list[Any], mapping: Any = None) -> list[tuple[bool, Any]]:
    typed, errors = type_column(f.name, values, f, mapping)
    failed = {i: reason for i, reason, _ in errors}
    got = typed.to_list()
    return [(False, failed[i]) if i in failed else (True, got[i]) for i in range(len(values))]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    return bool(a == b) and type(a) is type(b)


@pytest.mark.parametrize(("kind", "name"), FIELDS)
def test_known_spellings(kind: str, name: str) -> None:
    f = kind_spec(kind).fields[name]
    values: list[Any] = [*SPELLINGS, None]
    for (ok_e, e), (ok_a, a), raw in zip(
        _expected(f, values), _actual(f, values), values, strict=True
    ):
        assert ok_e == ok_a and _same(e, a), (raw, e, a)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(FIELDS),
    st.lists(st.one_of(st.sampled_from(SPELLINGS), st.text(ALPHABET, max_size=14)), max_size=12),
)
def test_random_text(field_: tuple[str, str], values: list[str]) -> None:
    f = kind_spec(field_[0]).fields[field_[1]]
    for (ok_e, e), (ok_a, a), raw in zip(
        _expected(f, values), _actual(f, values), values, strict=True
    ):
        assert ok_e == ok_a and _same(e, a), (raw, e, a)


def test_mapping_formats_and_codes() -> None:
    mapping = parse_mapping(
        'kind: cost_line\ndecimal: ","\nthousands: "."\ndate_format: "%m/%Y"\n'
        "multiply: {budget: 1000}\ncodes: {work_item: {CC1: PRJ1}}\n"
    )
    spec = kind_spec("cost_line")
    cases = {
        "budget": ["1.234,5", "2", "", "-1"],
        "period": ["04/2024", "2024-04-01", "13/2024"],
        "work_item": ["CC1", "CC2", " CC1 "],
    }
    for name, values in cases.items():
        f = spec.fields[name]
        for (ok_e, e), (ok_a, a), raw in zip(
            _expected(f, list(values), mapping),
            _actual(f, list(values), mapping),
            values,
            strict=True,
        ):
            assert ok_e == ok_a and _same(e, a), (raw, e, a)


def test_large_extract_updates_and_precise_errors(ingest_ws: Workspace, tmp_path: Path) -> None:
    """Enough rows for the whole-table look-up path: re-import is unchanged, a newer extract
    updates exactly the changed rows, and a bad cell deep in the file is reported precisely."""
    items = "code,name,kind\n" + "".join(f"P{i},Project {i},project\n" for i in range(30))
    import_file(ingest_ws, write(tmp_path / "w.csv", items), options=resolve_options(kind="work"))
    header = "work_item,period,expenditure,budget,forecast,actual\n"
    lines = [
        f"P{i % 30},{2024 + (i // 30) // 12}-{1 + (i // 30) % 12:02d}-01,"
        f"{'capex' if i % 2 else 'opex'},{i}.50,{i},\n"
        for i in range(720)
    ]
    first = write(tmp_path / "c1.csv", header + "".join(lines))
    opts = resolve_options(kind="cost_line")
    assert import_file(ingest_ws, first, options=opts).counts["cost_line"]["inserted"] == 720
    assert import_file(ingest_ws, first, options=opts).counts["cost_line"]["unchanged"] == 720
    newer = lines[:]
    newer[5] = newer[5].replace(",5.50,", ",5.75,")
    newer[600] = newer[600].replace("opex", "OPEX").rstrip("\n") + "12\n"  # actual given
    result = import_file(
        ingest_ws, write(tmp_path / "c2.csv", header + "".join(newer)), options=opts
    )
    assert result.counts["cost_line"] == {
        "inserted": 0,
        "updated": 2,
        "unchanged": 718,
        "rejected": 0,
    }
    with ingest_ws.session() as s:
        budgets = dict(s.execute(select(CostLine.code, CostLine.budget)).all())
        actual = s.scalar(select(CostLine.actual).where(CostLine.code == "P0/2025-09/opex"))
    assert budgets["P5/2024-01/capex"] == Decimal("5.75") and actual == Decimal("12")
    bad = lines[:]
    bad[700] = bad[700].replace(",700.50,", ",7OO,")
    before = dump(ingest_ws)
    with pytest.raises(ValidationError) as err:
        import_file(ingest_ws, write(tmp_path / "c3.csv", header + "".join(bad)), options=opts)
    assert dump(ingest_ws) == before
    (p,) = err.value.problems
    assert (p.file, p.row, p.column, p.value) == ("c3.csv", 702, "budget", "7OO")
    assert p.reason == "expected a number, got '7OO'"
