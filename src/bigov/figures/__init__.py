"""The governed figure layer: one definition per headline figure, computed in one place, read by
every output (packs, XLSX, CLI, API, pages). See :mod:`bigov.figures.catalog` for the
definitions and ``docs/figures.md`` for the glossary generated from them."""

from bigov.figures.catalog import CATALOG, FIGURES, FigureDef, glossary_markdown
from bigov.figures.compute import compute, figure_rows, governed

__all__ = [
    "CATALOG",
    "FIGURES",
    "FigureDef",
    "compute",
    "figure_rows",
    "glossary_markdown",
    "governed",
]
