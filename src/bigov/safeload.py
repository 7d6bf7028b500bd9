"""Reading untrusted files within bounds: YAML, JSON and XLSX, and a size limit per kind of file.

Every file bigov reads may come from anyone (a master-source extract, a mapping or a problem file
mailed in), so each reader asks this module first. A file that breaks a limit is refused with a
one-line :class:`~bigov.errors.ValidationError` (exit 6) *before* it can cost memory or time:

* **size**: a maximum number of bytes per kind of file (:data:`DEFAULT_MAX_BYTES`), overridable
  with ``BIGOV_MAX_<KIND>_BYTES`` (``BIGOV_MAX_XLSX_BYTES=…``);
* **YAML**: no Python tags, a maximum nesting depth, and aliases may add at most
  :data:`YAML_ALIAS_BUDGET` nodes beyond those written in the file (a "billion laughs" document
  is a few lines that expand to billions of nodes); recursive aliases are refused;
* **JSON**: a maximum nesting depth (a 100k-deep document would otherwise exhaust the stack);
* **XLSX**: before openpyxl parses anything, the archive's total uncompressed size and its
  compression ratio (zip bombs), and no DOCTYPE or entity declaration in any XML part.

The limits are documented in docs/importing.md ("Limits on files").
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bigov.errors import ValidationError

# Bytes allowed per kind of file (the file as stored on disk).
DEFAULT_MAX_BYTES: dict[str, int] = {
    "csv": 2 * 1024**3,  # tabular extracts; read as text
    "json": 512 * 1024**2,
    "xlsx": 256 * 1024**2,  # compressed; see XLSX_MAX_UNCOMPRESSED for what it may expand to
    "yaml": 32 * 1024**2,  # mappings, designs, definitions, problems: hand-written files
    "schedule": 512 * 1024**2,  # MS Project / Primavera files
    "metrics": 64 * 1024**3,  # observation files, streamed by DuckDB, never held in memory
}
# Nesting allowed in YAML and JSON documents (bigov's own formats need fewer than ten levels).
MAX_DEPTH = 64
# Nodes that aliases may add to a YAML document, beyond the nodes the file itself holds.
YAML_ALIAS_BUDGET = 100_000
# What the parts of an XLSX archive may add up to once decompressed: openpyxl holds every cell
# (twice: values and formulas), measured at 0.9 GB and 27 s for 57 MB of sheet XML (1M cells),
# so 128 MiB is about 2.3M cells and 2 GB while read. Above it, a CSV extract is the better
# route. The ratio of that to the archive's size above which it is a bomb rather than a workbook
# (real workbooks compress 5-30 times) is only checked beyond XLSX_RATIO_FLOOR, so small files
# are never refused for compressing well. A workbook has a few dozen parts, not thousands.
XLSX_MAX_UNCOMPRESSED = 128 * 1024**2
XLSX_MAX_RATIO = 200
XLSX_RATIO_FLOOR = 16 * 1024**2
XLSX_MAX_PARTS = 10_000
# Cells a worksheet may span (rows x columns of its used range): readers walk the whole range, so
# one stray cell at XFD1048576 in a 5 KB file would mean 17 billion cells.
XLSX_MAX_SHEET_CELLS = 20_000_000

_DECLARATION = re.compile(
    b"|".join(
        re.escape(word.encode(enc))
        for word in ("<!DOCTYPE", "<!ENTITY", "<!doctype", "<!entity")
        for enc in ("utf-8", "utf-16-le", "utf-16-be")
    )
)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        from bigov.errors import ConfigError

        raise ConfigError(f"${name} must be a whole number of bytes, got {raw!r}") from None
    return value


def max_bytes(kind: str) -> int:
    """The size limit of a kind of file (``csv``, ``json``, ``xlsx``, ``yaml``, ``schedule``,
    ``metrics``): ``$BIGOV_MAX_<KIND>_BYTES`` or the default."""
    return _env_int(f"BIGOV_MAX_{kind.upper()}_BYTES", DEFAULT_MAX_BYTES[kind])


def refuse(message: str) -> ValidationError:
    """A refusal of a whole file: one line, no problem table (the message names file and reason)."""
    return ValidationError(message)


def check_size(path: Path, kind: str, *, limit: int | None = None) -> None:
    """Refuse ``path`` when it is larger than the limit of its kind (missing files are left to
    the caller, whose message for them is better)."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    allowed = max_bytes(kind) if limit is None else limit
    if size > allowed:
        raise refuse(
            f"{path.name}: the file is {size:,} bytes, over the limit of {allowed:,} for "
            f"{kind} files (set $BIGOV_MAX_{kind.upper()}_BYTES to raise it)"
        )


def read_text(path: Path, kind: str = "yaml", *, encoding: str = "utf-8") -> str:
    """The text of a small file (YAML, JSON) after the size check. OSError is left to the caller;
    undecodable bytes are a refusal."""
    check_size(path, kind)
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise refuse(f"{path.name}: not {encoding} text (byte {exc.start})") from None


# --- YAML ------------------------------------------------------------------------------------


class _RefusedError(Exception):
    """Raised inside the loader; turned into a ValidationError naming the source."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit enforced while composing (before the
    recursive constructor could overflow the stack)."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _RefusedError(
                    f"nested deeper than {self.max_depth} levels (line {mark.line + 1})"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_graph(root: yaml.Node, max_depth: int, budget: int) -> None:
    """Refuse Python tags, recursive aliases, and documents whose aliases expand beyond the
    budget or the depth limit. Iterative (no recursion), each node visited once."""
    written: set[int] = set()
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            entered.discard(key)
            if depth[key] > max_depth:
                raise _RefusedError(f"aliases nest it deeper than {max_depth} levels")
            continue
        if key in size:
            continue
        if key in entered:
            raise _RefusedError("a recursive alias (a node that contains itself)")
        tag = node.tag or ""
        if tag.startswith("tag:yaml.org,2002:python/") or tag.startswith("!!python"):
            raise _RefusedError(f"the tag {tag!r} is not allowed (Python objects are never loaded)")
        entered.add(key)
        written.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in entered:
                raise _RefusedError("a recursive alias (a node that contains itself)")
            if id(kid) not in size:
                stack.append((kid, False))
    expanded = size[id(root)]
    if expanded - len(written) > budget:
        raise _RefusedError(
            f"aliases expand it to {expanded:,} nodes from {len(written):,} written "
            f"(at most {budget:,} more are allowed)"
        )


def load_yaml(
    text: str, source: str, *, max_depth: int = MAX_DEPTH, alias_budget: int = YAML_ALIAS_BUDGET
) -> Any:
    """Parse one YAML document safely (see the module docstring for the limits).

    Raises:
        ValidationError: a limit is broken (one line naming ``source`` and the reason).
        yaml.YAMLError: the text is not valid YAML (callers word that error themselves).
    """
    loader = _BoundedLoader(text)
    loader.max_depth = max_depth
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:  # pragma: no cover - the depth limit stops composing first
            raise _RefusedError(f"nested deeper than {max_depth} levels") from None
        if node is None:
            return None
        _check_graph(node, max_depth, alias_budget)
        try:
            return loader.construct_document(node)
        except (ValueError, OverflowError, TypeError) as exc:
            # a scalar PyYAML cannot build: an integer over Python's 4,300-digit limit, a
            # timestamp such as 2025-13-45 (unknown tags are YAMLErrors, for the caller)
            raise _RefusedError(f"a value cannot be read ({exc})") from None
    except _RefusedError as exc:
        raise refuse(f"{source}: refused YAML: {exc}") from None
    finally:
        loader.dispose()


# --- JSON ------------------------------------------------------------------------------------


def check_depth(value: Any, source: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a parsed JSON/YAML value nested deeper than ``max_depth`` (iterative; scalars
    cost nothing)."""
    if not isinstance(value, dict | list):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > max_depth:
            raise refuse(f"{source}: refused JSON: nested deeper than {max_depth} levels")
        children: Iterable[Any] = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))


def load_json(text: str, source: str, *, max_depth: int = MAX_DEPTH, walk: bool = True) -> Any:
    """Parse JSON with a nesting limit (``walk=False``: only what the parser's own stack guard
    catches, for large files whose deeper values the caller checks one by one).

    Raises:
        ValidationError: nested deeper than ``max_depth``.
        json.JSONDecodeError: not valid JSON (callers word that error themselves).
    """
    try:
        data = json.loads(text)
    except RecursionError:
        raise refuse(f"{source}: refused JSON: nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer over Python's 4,300-digit conversion limit
        raise refuse(f"{source}: refused JSON: a value cannot be read ({exc})") from None
    if walk:
        check_depth(data, source, max_depth=max_depth)
    return data


# --- XLSX ------------------------------------------------------------------------------------


def check_xlsx(
    path: Path,
    *,
    max_uncompressed: int | None = None,
    max_ratio: int | None = None,
) -> None:
    """Refuse a workbook that would expand beyond the limits, or whose XML declares a DOCTYPE or
    entities, before any XML parser sees it. A file that is not a zip archive is left to the
    workbook reader (its own message says so).

    The declared sizes can be trusted: Python's zipfile never returns more bytes for a part than
    its header declares."""
    limit = max_uncompressed or _env_int("BIGOV_XLSX_MAX_UNCOMPRESSED", XLSX_MAX_UNCOMPRESSED)
    ratio_limit = max_ratio or _env_int("BIGOV_XLSX_MAX_RATIO", XLSX_MAX_RATIO)
    name = path.name
    parts = _declared_parts(path)
    if parts is not None and parts > XLSX_MAX_PARTS:
        raise refuse(
            f"{name}: refused workbook: it holds {parts:,} parts (at most {XLSX_MAX_PARTS:,}; "
            "reading its directory alone would exhaust memory)"
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    with archive:
        try:
            infos = archive.infolist()
        except (zipfile.BadZipFile, ValueError):  # pragma: no cover - read at open
            return
        total = sum(max(i.file_size, 0) for i in infos)
        on_disk = max(path.stat().st_size, 1)
        if total > limit:
            raise refuse(
                f"{name}: refused workbook: it expands to {total:,} bytes, over the limit of "
                f"{limit:,} (a zip bomb, or a workbook to split)"
            )
        if total > XLSX_RATIO_FLOOR and total / on_disk > ratio_limit:
            raise refuse(
                f"{name}: refused workbook: it expands {total / on_disk:,.0f} times "
                f"(at most {ratio_limit} allowed: a zip bomb)"
            )
        for info in infos:
            lower = info.filename.casefold()
            if not lower.endswith((".xml", ".rels", ".vml")):
                continue
            try:
                found = _declares(archive, info)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                return  # a damaged part: the workbook reader reports it
            except Exception:  # zlib.error and the like from a damaged stream
                return
            if found:
                raise refuse(
                    f"{name}: refused workbook: the part {info.filename[:80]!r} declares a "
                    "DOCTYPE or entities (never in a workbook Excel writes)"
                )


def check_sheet_extent(file: str, sheet: str, rows: int | None, columns: int | None) -> None:
    """Refuse a worksheet whose used range spans more than :data:`XLSX_MAX_SHEET_CELLS`."""
    span = (rows or 0) * (columns or 0)
    if span > XLSX_MAX_SHEET_CELLS:
        raise refuse(
            f"{file}: refused workbook: sheet {sheet[:64]!r} spans {rows:,} rows x {columns:,} "
            f"columns ({span:,} cells, at most {XLSX_MAX_SHEET_CELLS:,}); delete the stray "
            "cells far from the data, or export the sheet as CSV"
        )


def _declared_parts(path: Path) -> int | None:
    """The number of parts the archive's end record declares, read before zipfile builds one
    object per part (None when it cannot be told: the workbook reader reports a bad archive)."""
    end_record = getattr(zipfile, "_EndRecData", None)  # CPython's reader of that record
    index = getattr(zipfile, "_ECD_ENTRIES_TOTAL", None)
    if end_record is None or index is None:  # pragma: no cover - other Python implementations
        return None
    try:
        with path.open("rb") as fh:
            record = end_record(fh)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    return int(record[index]) if record else None


def _declares(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(info) as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                return False
            if _DECLARATION.search(tail + block):
                return True
            tail = block[-32:]


__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_DEPTH",
    "XLSX_MAX_PARTS",
    "XLSX_MAX_RATIO",
    "XLSX_MAX_SHEET_CELLS",
    "XLSX_MAX_UNCOMPRESSED",
    "YAML_ALIAS_BUDGET",
    "check_depth",
    "check_sheet_extent",
    "check_size",
    "check_xlsx",
    "load_json",
    "load_yaml",
    "max_bytes",
    "read_text",
    "refuse",
]
