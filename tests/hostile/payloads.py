"""Hostile files, built in the tests (small on disk): YAML and JSON bombs, deep nesting, zip-bomb
and DOCTYPE workbooks, for the tests of this folder."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from openpyxl import Workbook

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8)
    )
    + "drivers: *i\nmatrix: *i\nnodes: *i\nmeasures: *i\nkind: work_item\n"
)
PYTHON_TAG = 'kind: !!python/object/apply:os.system ["echo owned > /tmp/bigov-owned"]\n'
RECURSIVE_ALIAS = "nodes: &a [*a]\n"


def deep_yaml(levels: int = 100_000) -> str:
    """A flow sequence nested ``levels`` deep."""
    return "nodes: " + "[" * levels + "]" * levels + "\n"


def deep_json(levels: int = 100_000) -> str:
    """An array nested ``levels`` deep."""
    return "[" * levels + "]" * levels


def deep_json_cell(levels: int = 200) -> str:
    """A valid import document whose one cell holds a value nested ``levels`` deep (under the
    parser's own stack guard, over bigov's nesting limit)."""
    return (
        '{"work_item": [{"code": "W1", "name": "n", "kind": "project", "description": '
        + "[" * levels
        + "]" * levels
        + "}]}"
    )


def workbook_bytes() -> bytes:
    """A small valid workbook with one work item."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "work_item"
    ws.append(["code", "name", "kind"])
    ws.append(["W1", "Alpha", "project"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sparse_xlsx(path: Path, sheet: str = "work_item", kind: str = "project") -> Path:
    """A 5 KB workbook with one stray cell at XFD1048576: its used range is 17 billion cells."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    ws.append(["code", "name", "kind"])
    ws.append(["W1", "Alpha", kind])
    ws["XFD1048576"] = "x"
    wb.save(path)
    return path


def rewrite_xlsx(
    path: Path,
    *,
    replace: dict[str, bytes] | None = None,
    extra: dict[str, int] | None = None,
) -> Path:
    """A copy of :func:`workbook_bytes` with some parts replaced and ``extra`` parts of that many
    zero bytes (compressed as they are written, never held in memory)."""
    base = zipfile.ZipFile(io.BytesIO(workbook_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in base.infolist():
            data = (replace or {}).get(info.filename, base.read(info.filename))
            out.writestr(info.filename, data)
        block = b"\0" * (1 << 20)
        for name, size in (extra or {}).items():
            with out.open(name, "w", force_zip64=True) as fh:
                left = size
                while left > 0:
                    fh.write(block[: min(left, len(block))])
                    left -= len(block)
    return path


_BOMBS: dict[int, Path] = {}


def zip_bomb(path: Path, uncompressed: int = 1_100 * 1024**2) -> Path:
    """A workbook whose sheet part is followed by ``uncompressed`` bytes (over 1 GB by default),
    about a thousand times smaller on disk. Built once per size and test session, then copied
    (compressing a gigabyte takes seconds)."""
    made = _BOMBS.get(uncompressed)
    if made is not None and made.exists():
        shutil.copyfile(made, path)
        return path
    rewrite_xlsx(path, extra={"xl/worksheets/sheet2.xml": uncompressed})
    _BOMBS[uncompressed] = path
    return path


def many_parts_xlsx(path: Path, parts: int = 20_000) -> Path:
    """A workbook padded with thousands of empty parts (its zip directory is the bomb)."""
    base = zipfile.ZipFile(io.BytesIO(workbook_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for info in base.infolist():
            out.writestr(info.filename, base.read(info.filename))
        for i in range(parts):
            out.writestr(f"xl/media/p{i}.bin", b"")
    return path


def doctype_xlsx(path: Path, *, encoding: str = "utf-8") -> Path:
    """A workbook whose sheet declares entities (billion laughs in XML)."""
    sheet = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return rewrite_xlsx(path, replace={"xl/worksheets/sheet1.xml": sheet.encode(encoding)})
