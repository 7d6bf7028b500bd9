"""Fuzzing the readers (slow suite, bounded example counts): whatever bytes a CSV, JSON, YAML or
XLSX file holds, reading it gives a result or a :class:`~bigov.errors.BigovError` — never any
other exception (which the CLI would show as a traceback)."""

from __future__ import annotations

import contextlib
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bigov.errors import BigovError
from bigov.governance.design import load_document
from bigov.ingest.mapping import parse_mapping
from bigov.ingest.registry import ImportOptions
from bigov.ingest.tabular import TabularImporter
from bigov.portfolio.ahp import load_pairwise
from bigov.portfolio.problem import load_problem
from tests.hostile import payloads as pl

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

# characters that matter to each syntax, so examples reach past the first parse error
CSV_TEXT = st.text(alphabet=st.sampled_from(list("abcW1,;\t|\"'\n\r -.£%()0123456789e\x00\u00a0")))
JSON_TEXT = st.text(alphabet=st.sampled_from(list('{}[]:,"\\ abcode_nmk1234567890.-+eEtrufl\n')))
YAML_TEXT = st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@ \n\tabkindcolums12.<")))
XML_TEXT = st.text(alphabet=st.sampled_from(list("<>/=\"' !DOCTYPEENTITY&;abcrv1A:[]?xml\n")))


def _outcome(read: Callable[[Path], Any], name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            read(path)
        except BigovError:
            pass
        except Exception as exc:  # the property: nothing else may escape
            pytest.fail(f"{name}: {type(exc).__name__}: {exc!s:.300} for {data[:200]!r}")


def _tabular(path: Path) -> Any:
    return TabularImporter().read(path, ImportOptions(kind="work_item"))


@FUZZ
@given(st.one_of(CSV_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=600)))
def test_csv_bytes(data: bytes) -> None:
    _outcome(_tabular, "f.csv", data)


@FUZZ
@given(st.one_of(JSON_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=600)))
def test_json_bytes(data: bytes) -> None:
    _outcome(_tabular, "f.json", data)


@FUZZ
@given(YAML_TEXT)
def test_yaml_text(text: str) -> None:
    def read(path: Path) -> Any:
        with contextlib.suppress(BigovError):
            parse_mapping(path.read_text(encoding="utf-8"), path.name)
        with contextlib.suppress(BigovError):
            load_problem(path)
        with contextlib.suppress(BigovError):
            load_pairwise(path)
        return load_document(path)

    _outcome(read, "f.yaml", text.encode("utf-8"))


BASE = pl.workbook_bytes()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)), max_size=8))
def test_xlsx_with_flipped_bytes(flips: list[tuple[int, int]]) -> None:
    data = bytearray(BASE)
    for at, value in flips:
        data[at] = value
    _outcome(_tabular, "f.xlsx", bytes(data))


@FUZZ
@given(
    XML_TEXT,
    st.sampled_from(
        [
            "xl/worksheets/sheet1.xml",
            "xl/sharedStrings.xml",
            "xl/workbook.xml",
            "[Content_Types].xml",
            "xl/styles.xml",
        ]
    ),
)
def test_xlsx_with_a_fuzzed_part(xml: str, part: str) -> None:
    source = zipfile.ZipFile(io.BytesIO(BASE))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            body = xml.encode("utf-8") if info.filename == part else source.read(info.filename)
            out.writestr(info.filename, body)
    data = buf.getvalue()
    _outcome(_tabular, "f.xlsx", data)
    _outcome(load_document, "d.xlsx", data)
