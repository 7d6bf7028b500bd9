"""The one rule for codes (common references) and for control characters in text.

Every path that stores a code calls :func:`check_code` (the ORM flush hook in
:mod:`bigov.db.base`, import validation in :mod:`bigov.ingest.validate`, the governance design
import), so a code that is refused on one path is refused on all of them.

The rule (documented in ``docs/codes.md``):

* characters: ASCII letters, digits and ``. _ - / @``; the first character is a letter or a
  digit. Codes become file names (packs), URL segments, CLI arguments and spreadsheet cells, and
  are matched *exactly* between master sources; spaces, quotes, brackets, backslashes, control
  and bidi characters make each of those ambiguous or dangerous, and non-ASCII letters look alike
  while comparing unequal (and normalise differently on some file systems).
* length: at most 64 characters (the ``code`` column is ``varchar(64)`` on every backend), and
  less for kinds whose code is a prefix of derived codes: a governance node's code is at most
  :data:`NODE_CODE_MAX` (40) characters, because its cycles (``NODE/YYYY-MM/vN``), tolerances
  (``NODE-TOL-schedule_days``), agenda items, information definitions and decisions
  (``NODE-D001``) carry it plus a suffix of up to 24 characters.

Control characters (C0 and C1, DEL) and the bidirectional overrides and isolates
(U+202A–U+202E, U+2066–U+2069) are refused in codes and stripped from other text; long text keeps
tab and line breaks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bigov.errors import BigovError, Problem, ValidationError

CODE_MAX = 64
# Longest suffix added to a node code by a derived code: "-TOL-schedule_days" is 18, and
# "/YYYY-MM/v99999" 15; 24 leaves room for the next one.
NODE_SUFFIX_MAX = 24
NODE_CODE_MAX = CODE_MAX - NODE_SUFFIX_MAX

# Kinds (table names) whose code is the prefix of derived codes, and their own maximum.
KIND_MAX: dict[str, int] = {"governance_node": NODE_CODE_MAX}

# One pattern, used as-is by Python (``re``) and Polars (Rust ``regex``): ASCII classes only, so
# both engines accept exactly the same strings.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/@-]*$"
_CODE_RE = re.compile(CODE_PATTERN)

# C0 except tab/LF/CR, DEL, C1, bidi embeddings/overrides and isolates.
# Written as regex escapes (not literal characters) so the same text is a valid pattern for
# Python's ``re`` and for Polars.
_CONTROL_KEEP_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
CONTROL_PATTERN = f"[{_CONTROL_KEEP_LINES}]"
# Short text (names, titles) has no business with tabs or line breaks either.
CONTROL_PATTERN_SHORT = rf"[\t\n\r{_CONTROL_KEEP_LINES}]"
_CONTROL_RE = re.compile(CONTROL_PATTERN)
_CONTROL_SHORT_RE = re.compile(CONTROL_PATTERN_SHORT)
_ANY_CONTROL_RE = _CONTROL_SHORT_RE


class CodeError(ValidationError):
    """A code that breaks the rule (exit 6, like any invalid input)."""


def max_length(kind: str | None) -> int:
    """The longest code allowed for ``kind`` (a table name, e.g. ``governance_node``)."""
    return KIND_MAX.get(kind or "", CODE_MAX)


def code_problem(code: object, kind: str | None = None, *, fact: bool = False) -> str | None:
    """Why ``code`` is not a valid code of ``kind`` (None when it is).

    ``fact``: the kind's codes are derived from a natural key (``WORK/2026-09``,
    ``NODE/1/Cost vs budget``) and may carry the key's text, so only control and bidi
    characters, edge blanks and the length are checked; such codes never name a file."""
    if not isinstance(code, str):
        return f"a code must be text, not {type(code).__name__}"
    if not code:
        return "the code is empty"
    limit = max_length(kind)
    if len(code) > limit:
        what = f"a {kind.replace('_', ' ')} code" if kind in KIND_MAX and kind else "a code"
        return f"{what} is at most {limit} characters (this one has {len(code)})"
    if fact:
        bad = sorted({c for c in code if _ANY_CONTROL_RE.match(c)})
        if bad:
            return (
                "a code may not hold control characters (found "
                + ", ".join(_describe(c) for c in bad[:5])
                + ")"
            )
        if code != code.strip():
            return "a code may not start or end with a blank"
        return None
    if _CODE_RE.match(code) is None:
        bad = sorted({c for c in code if not (c.isascii() and (c.isalnum() or c in "._/@-"))})
        if bad:
            shown = ", ".join(_describe(c) for c in bad[:5])
            return f"a code may hold only letters, digits and . _ - / @ (found {shown})"
        return "a code must start with a letter or a digit"
    return None


@functools.cache
def is_fact_kind(kind: str) -> bool:
    """True for kinds whose codes may be derived from a natural key (links and facts by
    period: ``status_report``, ``node_scope``, ...), which the importer defines; such codes are
    held to the fact-code rule (see :func:`code_problem`)."""
    from bigov.ingest.spec import kind_spec  # the importer owns natural keys; imported late

    try:
        return bool(kind_spec(kind).natural_key)
    except BigovError:  # not an importable kind (cycles, exceptions, series): the full rule
        return False


def check_code(code: object, kind: str | None = None, *, fact: bool = False) -> str:
    """``code`` when it obeys the rule.

    Raises:
        CodeError: with one problem naming the kind, the code and the reason.
    """
    reason = code_problem(code, kind, fact=fact)
    if reason is None:
        assert isinstance(code, str)
        return code
    shown = safe_repr(code)
    where = f"{kind} " if kind else ""
    raise CodeError(
        f"invalid {where}code {shown}: {reason}",
        [Problem(reason, column="code", value=shown)],
    )


def design_code_problems(
    nodes: Sequence[Mapping[str, Any]],
) -> list[tuple[int, str, str, str]]:
    """(node index, column, reason, value) for every code of a governance design that breaks
    the rule: node codes, the member codes derived from them (``NODE-M-PERSON``, where both
    codes add up) and information codes given explicitly. A missing code is the design
    checker's to report."""
    out: list[tuple[int, str, str, str]] = []
    for i, n in enumerate(nodes):
        code = n.get("code")
        if not isinstance(code, str) or not code:
            continue
        reason = code_problem(code, "governance_node")
        if reason:
            out.append((i, "code", reason, safe_repr(code)))
            continue
        for m in n.get("members") or []:
            person = m.get("person") if isinstance(m, Mapping) else None
            if isinstance(person, str) and code_problem(f"{code}-M-{person}") is not None:
                out.append(
                    (
                        i,
                        "members",
                        f"member code {code}-M-{person} breaks the code rule: "
                        f"{code_problem(f'{code}-M-{person}')}",
                        safe_repr(person),
                    )
                )
        for a in n.get("agenda") or []:
            for d in (a.get("information") or []) if isinstance(a, Mapping) else []:
                given = d.get("code") if isinstance(d, Mapping) else None
                if given is not None and (why := code_problem(given)) is not None:
                    out.append((i, "information", why, safe_repr(given)))
    return out


def has_control(text: str, *, long_text: bool = False) -> bool:
    """True when ``text`` holds characters :func:`strip_control` would remove."""
    return (_CONTROL_RE if long_text else _ANY_CONTROL_RE).search(text) is not None


def strip_control(text: str, *, long_text: bool = False) -> str:
    """``text`` without control and bidi-override characters. Short text has tabs and line
    breaks turned into spaces (a name keeps its words apart); long text keeps tab, LF and CR."""
    # whitespace controls (vertical tab, form feed, NEL, ...) separate words: they become spaces
    pattern = _CONTROL_RE if long_text else _CONTROL_SHORT_RE
    return pattern.sub(lambda m: " " if m.group().isspace() else "", text)


def safe_repr(value: object, limit: int = 80) -> str:
    """A printable, bounded representation of untrusted text for messages (``repr`` escapes
    control characters; bidi overrides are escaped too so a message cannot be reordered)."""
    text = repr(value)
    text = re.sub("[\u202a-\u202e\u2066-\u2069]", lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if not char.isprintable() or _ANY_CONTROL_RE.match(char):
        return f"U+{ord(char):04X}"
    return repr(char)


__all__ = [
    "CODE_MAX",
    "CODE_PATTERN",
    "CONTROL_PATTERN",
    "CONTROL_PATTERN_SHORT",
    "NODE_CODE_MAX",
    "CodeError",
    "check_code",
    "code_problem",
    "design_code_problems",
    "has_control",
    "is_fact_kind",
    "max_length",
    "safe_repr",
    "strip_control",
]


def refuse_nul(value: str) -> str:
    """``value`` unchanged, or ValueError when it holds a NUL (PostgreSQL text cannot: refuse it
    at the edge rather than fail in the database). A pydantic ``AfterValidator``."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value
