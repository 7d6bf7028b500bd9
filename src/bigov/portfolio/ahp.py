"""Driver weights by pairwise comparison (Saaty's analytic hierarchy process).

A board compares its drivers two at a time on the 1–9 scale ("growth is moderately more important
than compliance" = 3). The weights are the principal eigenvector of the reciprocal matrix; the
consistency ratio CR = CI / RI, with CI = (λmax − n) / (n − 1) and RI Saaty's random index, says
whether the judgements hang together. Above 0.1 the usual advice is to revisit them, so the result
names the pairs that disagree most with the weights they produced.

Callers may rely on: weights are positive and sum to 1, in the order of the drivers given;
``cr`` is 0 for one or two drivers (always consistent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import yaml

from bigov import safeload
from bigov.errors import Problem, ValidationError

__all__ = [
    "CR_THRESHOLD",
    "RANDOM_INDEX",
    "AhpResult",
    "InconsistentPair",
    "ahp_weights",
    "load_pairwise",
    "parse_judgement",
]

# Saaty's random consistency index by matrix size (Saaty 1980; the values most textbooks print).
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
CR_THRESHOLD = 0.1


@dataclass(frozen=True)
class InconsistentPair:
    """A judgement that disagrees with the weights: ``given`` vs ``implied`` = w[a] / w[b]."""

    a: str
    b: str
    given: float
    implied: float

    @property
    def disagreement(self) -> float:
        """How many times off the judgement is (≥ 1; 1 = perfectly consistent)."""
        return math.exp(abs(math.log(self.given / self.implied)))


@dataclass(frozen=True)
class AhpResult:
    """Weights of each driver, principal eigenvalue and consistency of the judgements."""

    drivers: list[str]
    weights: dict[str, float]
    lambda_max: float
    ci: float
    cr: float
    inconsistent_pairs: list[InconsistentPair] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """True when CR ≤ 0.1, Saaty's usual acceptance threshold."""
        return self.cr <= CR_THRESHOLD

    @property
    def warning(self) -> str | None:
        """A sentence for the user when the judgements are inconsistent, else None."""
        if self.consistent:
            return None
        worst = ", ".join(
            f"{p.a} vs {p.b} (judged {_fmt(p.given)}, weights imply {_fmt(p.implied)})"
            for p in self.inconsistent_pairs
        )
        return (
            f"pairwise judgements are inconsistent (CR = {self.cr:.3f} > {CR_THRESHOLD}); "
            f"revisit first: {worst}"
        )


def _fmt(x: float) -> str:
    if x >= 1:
        return f"{x:.2g}"
    return f"1/{1 / x:.2g}"


def parse_judgement(value: float | int | str) -> float:
    """A number, or a fraction written as text (``"1/3"``), as a float; ValueError if neither."""
    if isinstance(value, str):
        return float(Fraction(value.strip()))
    return float(value)


def ahp_weights(
    drivers: Sequence[str],
    matrix: Sequence[Sequence[float | int | str | None]],
    *,
    top_pairs: int = 3,
) -> AhpResult:
    """Weights and consistency of a pairwise comparison matrix.

    Only the upper triangle is read (judgements must be in [1/9, 9]); the lower
    triangle is filled with reciprocals, so a user cannot make the matrix non-reciprocal by a typo.
    Raises :class:`ValidationError` naming the offending cells.
    """
    n = len(drivers)
    found: list[Problem] = []
    if n == 0:
        found.append(Problem("no drivers given"))
    if len(set(drivers)) != n:
        found.append(Problem("drivers are repeated", value=str(list(drivers))))
    if len(matrix) != n or any(len(row) != n for row in matrix):
        found.append(Problem(f"the matrix must be {n}×{n}, one row and column per driver"))
    if found:
        raise ValidationError("invalid pairwise comparison: " + found[0].reason, found)

    a = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            where = f"{drivers[i]} vs {drivers[j]}"
            cell = matrix[i][j]
            if cell is None:
                found.append(Problem("missing judgement", column=where))
                continue
            try:
                v = parse_judgement(cell)
            except (ValueError, ZeroDivisionError):
                found.append(Problem("not a number", column=where, value=str(matrix[i][j])))
                continue
            if not (1 / 9 - 1e-9 <= v <= 9 + 1e-9):
                found.append(Problem("judgement outside 1/9 … 9", column=where, value=str(v)))
                continue
            a[i, j], a[j, i] = v, 1.0 / v
    if found:
        raise ValidationError(
            f"invalid pairwise comparison: {found[0].column}: {found[0].reason}", found
        )

    eigenvalues, vectors = np.linalg.eig(a)
    k = int(np.argmax(eigenvalues.real))
    lam = float(eigenvalues[k].real)
    # Perron–Frobenius: the principal eigenvector of a positive matrix has one sign; normalising
    # by its sum makes it positive whichever sign numpy returned.
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, RANDOM_INDEX[15])
    cr = max(ci / ri, 0.0) if ri > 0 else 0.0

    pairs = [
        InconsistentPair(drivers[i], drivers[j], float(a[i, j]), float(w[i] / w[j]))
        for i in range(n)
        for j in range(i + 1, n)
    ]
    pairs.sort(key=lambda p: -p.disagreement)
    return AhpResult(
        drivers=list(drivers),
        weights={d: float(x) for d, x in zip(drivers, w, strict=True)},
        lambda_max=lam,
        ci=max(ci, 0.0),
        cr=cr,
        inconsistent_pairs=pairs[:top_pairs] if cr > CR_THRESHOLD else [],
    )


def load_pairwise(path: str | Path) -> AhpResult:
    """Read ``{drivers: [...], matrix: [[...]]}`` from YAML or JSON and compute the weights."""
    p = Path(path)
    try:
        data = safeload.load_yaml(safeload.read_text(p), str(p))
    except OSError as exc:
        raise ValidationError(
            f"cannot read {p}: {exc.strerror}", [Problem("unreadable", str(p))]
        ) from None
    except yaml.YAMLError as exc:
        raise ValidationError(
            f"{p} is not valid YAML: {exc}", [Problem(str(exc), str(p))]
        ) from None
    if not isinstance(data, dict) or "drivers" not in data or "matrix" not in data:
        raise ValidationError(
            f"{p} must hold 'drivers' (a list) and 'matrix' (a list of rows)",
            [Problem("missing drivers or matrix", file=str(p))],
        )
    drivers, matrix = data["drivers"], data["matrix"]
    if not isinstance(drivers, list) or not isinstance(matrix, list):
        raise ValidationError(
            f"{p}: 'drivers' and 'matrix' must be lists", [Problem("not lists", file=str(p))]
        )
    if not all(isinstance(row, list) for row in matrix):
        raise ValidationError(f"{p}: every matrix row must be a list", [Problem("bad row", str(p))])
    return ahp_weights([str(d) for d in drivers], matrix)
