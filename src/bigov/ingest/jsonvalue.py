"""JSON-valued fields of the tabular import and export (a ``sqlalchemy.JSON`` column, such as
``governance_node.rules``: a node's rule settings, ``{"resource_over_pct": 125}``).

A spreadsheet cell holds such a value as its **canonical text**: compact (no blanks), keys
sorted, non-ASCII kept, and a number that is whole written as an integer (``125.0`` is ``125``,
as RFC 8785 writes numbers: JSON has one number type, so the two are the same value). The
export writes that text; the import reads a cell back with :func:`parse_cell`, which refuses
anything but a JSON object and applies the column's own checks (:data:`CHECKS`); validation
holds the canonical text in its frames, so "unchanged" is a comparison of texts; the loader
writes the object (:func:`from_text`), which each database stores as JSON.

Callers may rely on: :func:`canonical` being stable (the same value always gives the same text)
and :func:`parse_cell` raising only :class:`~bigov.ingest.parse.ParseError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bigov import safeload
from bigov.errors import ValidationError
from bigov.ingest.parse import ParseError, is_empty

# a cell's object may nest this deep (a node's rules are one level)
MAX_DEPTH = 16

Check = Callable[[dict[str, Any]], list[str]]


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def canonical(value: Any) -> str:
    """The canonical JSON text of ``value`` (compact, sorted keys, whole numbers as integers)."""
    return json.dumps(
        _whole_numbers(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def from_text(text: str | None) -> dict[str, Any] | None:
    """The object a canonical text (as validation holds it) stands for; None for None."""
    if text is None:
        return None
    value: dict[str, Any] = json.loads(text)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # json.loads would keep the last silently: which one was meant?
            raise ParseError(f"JSON object names {key!r} twice")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ParseError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: no database stores it as JSON
        raise ParseError(f"number {text} is too large")
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    return "a number"


def parse_cell(value: Any, check: Check | None = None) -> str | None:
    """The canonical text of a cell holding a JSON object, None for an empty cell.

    Raises:
        ParseError: not JSON, not an object, nested too deep, or refused by ``check`` (every
            reason it gives, joined).
    """
    if is_empty(value):
        return None
    if isinstance(value, dict):  # a reader that keeps objects as objects
        parsed: Any = value
    elif isinstance(value, str):
        try:
            parsed = json.loads(
                value,
                object_pairs_hook=_unique_keys,
                parse_constant=_no_constant,
                parse_float=_finite,
            )
        except ParseError:
            raise
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"not valid JSON: {exc.msg} at character {exc.pos + 1}; "
                'expected a JSON object such as {"name": 1}'
            ) from None
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # an integer of thousands of digits (Python's own limit)
            raise ParseError(f"not a usable JSON value: {exc}") from None
    else:
        raise ParseError(f'expected a JSON object such as {{"name": 1}}, got {value!r}')
    if not isinstance(parsed, dict):
        raise ParseError(f"expected a JSON object, got {_json_kind(parsed)}")
    try:
        safeload.check_depth(parsed, "cell", max_depth=MAX_DEPTH)
    except ValidationError:  # safeload words it for files; a cell gets the parser's message
        raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if check is not None:
        reasons = check(parsed)
        if reasons:
            raise ParseError("; ".join(reasons))
    return canonical(parsed)


def node_rules(rules: dict[str, Any]) -> list[str]:
    """A node's rule settings, checked as the governance design import checks them: every name
    a known setting, every value a number inside its documented range
    (:data:`bigov.governance.design.RULE_SETTING_RANGES`)."""
    from bigov.governance.design import RULE_SETTING_RANGES  # imported late: no import cycle

    reasons: list[str] = []
    for key, raw in rules.items():
        if key not in RULE_SETTING_RANGES:
            reasons.append(f"unknown rule setting {key!r}; use {', '.join(RULE_SETTING_RANGES)}")
            continue
        # JSON numbers only: text or true/false would be stored as such, not as a number
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            reasons.append(f"rule setting {key} must be a number, got {json.dumps(raw)}")
            continue
        value = Decimal(str(raw))
        lo, hi = RULE_SETTING_RANGES[key]
        if not lo <= value <= hi:
            reasons.append(f"rule setting {key} is {value}: out of range {lo}–{hi}")
    return reasons


# The checks of particular JSON columns, by (table, column).
CHECKS: dict[tuple[str, str], Check] = {
    ("governance_node", "rules"): node_rules,
}

__all__ = ["CHECKS", "MAX_DEPTH", "canonical", "from_text", "node_rules", "parse_cell"]
