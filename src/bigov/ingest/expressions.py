"""Computed fields of a mapping: a small expression language, parsed here, never ``eval``-ed.

A mapping's ``computed:`` section gives a field an expression over the file's columns
(docs/importing.md, "Computed fields")::

    computed:
      forecast_finish: "[Start date] + [Duration (days)]"     # a date plus a number of days
      code: "'PRJ-' & [Project ID]"                           # text joined with &
      period: "month([Invoice date])"                         # a date rounded to its month
      portfolio: "'PF-' & prefix([Project ID], '_')"          # the code before the first _

Grammar (left to right, one precedence level for the operators)::

    expr  := atom (("+" | "-" | "&") atom)*
    atom  := [column header] | 'text' | "text" | number | name "(" [expr ("," expr)*] ")"
           | "(" expr ")"

* ``[...]`` is a column of the file, matched like ``columns:`` headers (case, blanks and
  bracketed notes ignored); an empty cell is *empty*, and empty spreads: ``[a] + 1`` of an empty
  ``a`` is empty, ``&`` treats it as no text.
* ``+`` / ``-`` add or subtract numbers, add days to a date (``date + 30``), subtract days or
  give the days between two dates; ``&`` joins as text (a date as ``yyyy-mm-dd``).
* functions: ``month(d)``, ``quarter(d)``, ``year(d)`` (the first day of the calendar period
  holding ``d``), ``prefix(t, n)`` (first ``n`` characters) or ``prefix(t, 'sep')`` (text before
  the first ``sep``), ``upper``, ``lower``, ``trim``, ``round(n[, digits])``,
  ``coalesce(a, b, ...)`` (the first that is not empty).

Dates in cells are read with the mapping's ``date_format`` and the usual spellings; numbers
with its decimal and thousands separators.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bigov.errors import ConfigError
from bigov.ingest.parse import (
    DEFAULT_NUMBER_FORMAT,
    NumberFormat,
    ParseError,
    is_empty,
    parse_date,
    parse_decimal,
)

MAX_LENGTH = 500  # characters of one expression
MAX_DEPTH = 20  # nesting of brackets and calls

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<column>\[[^\]]*\])
      | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>[-+&(),])
    )""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """A value an expression cannot work with (a row's problem, not the mapping's).

    ``column`` is the header of the column whose cell is at fault, when one cell is: the
    problem is then reported against that cell (its column and value), which is where the data
    owner has to correct it, rather than against the computed field it feeds. ``operand`` is
    the position of the offending operand or argument while the error travels up to the node
    that knows whether that operand is a column.
    """

    def __init__(
        self, message: str, *, operand: int | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.operand = operand
        self.column = column


@dataclass(frozen=True)
class Column:
    header: str


@dataclass(frozen=True)
class Literal:
    value: str | Decimal


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Column | Literal | Call | Binary


@dataclass(frozen=True)
class Context:
    """How cells are read: the mapping's date formats and number format."""

    date_formats: Sequence[str] = ()
    number_format: NumberFormat = DEFAULT_NUMBER_FORMAT


_PLAIN = Context()


# -- parsing ---------------------------------------------------------------------------------------


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConfigError(
                f"{where}: cannot read the expression at character {pos + 1}: "
                f"{text[pos : pos + 20]!r}",
                hint="see docs/importing.md, Computed fields",
            )
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self.tokens = _tokens(text, where)
        self.i = 0

    def fail(self, message: str) -> ConfigError:
        return ConfigError(
            f"{self.where}: {message}", hint="see docs/importing.md, Computed fields"
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail("the expression ends too early")
        self.i += 1
        return token

    def expect(self, op: str) -> None:
        token = self.take()
        if token != ("op", op):
            raise self.fail(f"expected {op!r}, found {token[1]!r}")

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")
        node = self.atom(depth)
        while (token := self.peek()) is not None and token[0] == "op" and token[1] in "+-&":
            self.i += 1
            node = Binary(token[1], node, self.atom(depth))
        return node

    def atom(self, depth: int) -> Node:
        kind, text = self.take()
        if kind == "column":
            header = text[1:-1].strip()
            if not header:
                raise self.fail("an empty column reference []")
            return Column(header)
        if kind == "string":
            quote = text[0]
            return Literal(text[1:-1].replace(quote * 2, quote))
        if kind == "number":
            return Literal(Decimal(text))
        if kind == "op" and text == "-":
            token = self.take()
            if token[0] != "number":
                raise self.fail("a minus sign must come before a number or between two values")
            return Literal(-Decimal(token[1]))
        if kind == "op" and text == "(":
            node = self.expr(depth + 1)
            self.expect(")")
            return node
        if kind == "name":
            name = text.casefold()
            if name not in FUNCTIONS:
                raise self.fail(
                    f"unknown function {text!r}; known: " + ", ".join(sorted(FUNCTIONS))
                )
            self.expect("(")
            args: list[Node] = []
            if self.peek() != ("op", ")"):
                args.append(self.expr(depth + 1))
                while self.peek() == ("op", ","):
                    self.i += 1
                    args.append(self.expr(depth + 1))
            self.expect(")")
            lo, hi = FUNCTIONS[name][1:]
            if not lo <= len(args) <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"{lo} or more"
                raise self.fail(f"{name}() takes {want} argument(s), got {len(args)}")
            return Call(name, tuple(args))
        raise self.fail(f"unexpected {text!r}")


def parse(text: str, where: str = "computed") -> Node:
    """The expression ``text`` as a tree.

    Raises:
        ConfigError: not an expression of the documented form (``where`` names it).
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: an expression is needed")
    if len(text) > MAX_LENGTH:
        raise ConfigError(f"{where}: longer than {MAX_LENGTH} characters")
    parser = _Parser(text, where)
    node = parser.expr(0)
    if parser.peek() is not None:
        raise parser.fail(f"unexpected {parser.peek()[1]!r} after the expression")  # type: ignore[index]
    return node


def columns_of(node: Node) -> list[str]:
    """Every column header the expression reads, in order of appearance."""
    if isinstance(node, Column):
        return [node.header]
    if isinstance(node, Binary):
        return [*columns_of(node.left), *columns_of(node.right)]
    if isinstance(node, Call):
        return [h for a in node.args for h in columns_of(a)]
    return []


# -- evaluation ------------------------------------------------------------------------------------

Value = str | Decimal | dt.date | None


def evaluate(node: Node, cell: Callable[[str], Any], ctx: Context | None = None) -> Value:
    """The value of ``node`` for one row; ``cell(header)`` gives the row's raw cell.

    Raises:
        ExpressionError: a value the expression cannot work with (the message says which).
    """
    ctx = ctx or _PLAIN
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Column):
        raw = cell(node.header)
        if is_empty(raw):
            return None
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date | Decimal | str):
            return raw
        if isinstance(raw, bool):
            return str(raw).lower()
        if isinstance(raw, int | float):
            return parse_decimal(raw)
        return str(raw)
    if isinstance(node, Binary):
        left = evaluate(node.left, cell, ctx)
        right = evaluate(node.right, cell, ctx)
        if node.op == "&":
            return _text(left) + _text(right)
        if left is None or right is None:
            return None
        try:
            return _arith(node.op, left, right, ctx)
        except ExpressionError as exc:
            raise _located(exc, (node.left, node.right)) from None
    fn = FUNCTIONS[node.name][0]
    try:
        return fn([evaluate(a, cell, ctx) for a in node.args], ctx)
    except ExpressionError as exc:
        raise _located(exc, node.args) from None


def _located(exc: ExpressionError, operands: Sequence[Node]) -> ExpressionError:
    """``exc`` naming the column of the operand at fault, when that operand is a column read as
    it is (a value worked out from several columns cannot be pinned on one cell)."""
    if exc.column is not None or exc.operand is None:
        return exc
    at = operands[exc.operand] if exc.operand < len(operands) else None
    return ExpressionError(str(exc), column=at.header if isinstance(at, Column) else None)


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return value


def _number(value: Value, ctx: Context) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return parse_decimal(value, fmt=ctx.number_format)
        except ParseError:
            return None
    return None


def _date(value: Value, ctx: Context) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value, formats=ctx.date_formats)
        except ParseError:
            return None
    return None


def _need_date(value: Value, ctx: Context, what: str) -> dt.date | None:
    if value is None:
        return None
    day = _date(value, ctx)
    if day is None:
        raise ExpressionError(f"{what}: {_text(value)!r} is not a date", operand=0)
    return day


def _arith(op: str, left: Value, right: Value, ctx: Context) -> Value:
    a, b = _number(left, ctx), _number(right, ctx)
    if a is not None and b is not None and not isinstance(left, dt.date):
        return a + b if op == "+" else a - b
    day = _date(left, ctx)
    # An operand that is neither a number nor a date is the one to correct (a misspelt date such
    # as 31/02/2026, a duration written "soon"): say so about it, not about the sum.
    for k, (value, number) in enumerate(((left, a), (right, b))):
        if number is None and _date(value, ctx) is None:
            formats = f" (dates as {', '.join(ctx.date_formats)})" if ctx.date_formats else ""
            raise ExpressionError(
                f"{_text(value)!r} is neither a number nor a date{formats}", operand=k
            )
    if day is not None and b is not None:
        if b != b.to_integral_value():
            raise ExpressionError(f"{_text(right)!r} is not a whole number of days", operand=1)
        try:
            return day + dt.timedelta(days=int(b) if op == "+" else -int(b))
        except OverflowError:
            raise ExpressionError(f"{day.isoformat()} {op} {b} days is out of range") from None
    other = _date(right, ctx)
    if op == "-" and day is not None and other is not None:
        return Decimal((day - other).days)
    raise ExpressionError(
        f"cannot {'add' if op == '+' else 'subtract'} {_text(right)!r} "
        f"{'to' if op == '+' else 'from'} {_text(left)!r}: numbers, or a date and days"
    )


def _month(args: list[Value], ctx: Context) -> Value:
    day = _need_date(args[0], ctx, "month()")
    return None if day is None else day.replace(day=1)


def _quarter(args: list[Value], ctx: Context) -> Value:
    day = _need_date(args[0], ctx, "quarter()")
    return None if day is None else dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _year(args: list[Value], ctx: Context) -> Value:
    day = _need_date(args[0], ctx, "year()")
    return None if day is None else dt.date(day.year, 1, 1)


def _prefix(args: list[Value], ctx: Context) -> Value:
    text, how = args
    if text is None:
        return None
    value = _text(text)
    if isinstance(how, Decimal):
        if how != how.to_integral_value() or how < 0:
            raise ExpressionError(f"prefix(): {how} is not a number of characters")
        return value[: int(how)]
    if not how:
        raise ExpressionError("prefix(): give a number of characters or a separator")
    return value.split(_text(how), 1)[0]


def _round(args: list[Value], ctx: Context) -> Value:
    if args[0] is None:
        return None
    number = _number(args[0], ctx)
    if number is None:
        raise ExpressionError(f"round(): {_text(args[0])!r} is not a number", operand=0)
    digits = _number(args[1], ctx) if len(args) > 1 else Decimal(0)
    if digits is None or digits != digits.to_integral_value() or not 0 <= digits <= 12:
        raise ExpressionError("round(): digits must be a whole number from 0 to 12")
    return number.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)


def _case(fn: Callable[[str], str]) -> Callable[[list[Value], Context], Value]:
    def apply(args: list[Value], ctx: Context) -> Value:
        return None if args[0] is None else fn(_text(args[0]))

    return apply


def _coalesce(args: list[Value], ctx: Context) -> Value:
    return next((a for a in args if a is not None and a != ""), None)


# name -> (function, fewest arguments, most arguments)
FUNCTIONS: dict[str, tuple[Callable[[list[Value], Context], Value], int, int]] = {
    "month": (_month, 1, 1),
    "quarter": (_quarter, 1, 1),
    "year": (_year, 1, 1),
    "prefix": (_prefix, 2, 2),
    "upper": (_case(str.upper), 1, 1),
    "lower": (_case(str.lower), 1, 1),
    "trim": (_case(str.strip), 1, 1),
    "round": (_round, 1, 2),
    "coalesce": (_coalesce, 1, 99),
}


def as_cell(value: Value) -> Any:
    """A computed value as a raw cell for validation (dates as ISO text, numbers as text)."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _text(value)
    return value
