"""File names made from codes (a cycle's code names its pack files).

Codes come from data, so a code may hold what a file name must not: path separators (``/``,
``\\``), ``..``, newlines and other control characters, bidirectional overrides (U+202E makes
``fdp.exe`` read as ``exe.pdf``) or a Windows device name. :func:`safe_filename` keeps letters,
digits and ``. _ - @`` and turns anything else into ``_``, so every pack lands in the folder asked
for, under a name that reads as what it is.
"""

from __future__ import annotations

import unicodedata

MAX_STEM = 150  # well inside the 255 bytes file systems allow, with room for the suffix
_KEEP = frozenset("._-@")
# names Windows reserves whatever the suffix (a pack may be copied onto a Windows share)
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def safe_filename(stem: str) -> str:
    """``stem`` as a single, harmless file-name component (no suffix added): letters and digits
    (any script), ``. _ - @`` kept; every other character — separators, whitespace, control and
    format characters such as U+202E — becomes ``_``; no leading dot (no hidden file, no ``..``);
    at most :data:`MAX_STEM` characters; never empty or a Windows device name."""
    text = unicodedata.normalize("NFKC", stem)
    out = "".join(
        ch if (ch.isalnum() and unicodedata.category(ch)[0] in "LN") or ch in _KEEP else "_"
        for ch in text
    )
    out = out.lstrip(".")[:MAX_STEM] or "_"
    if out.split(".")[0].upper() in _RESERVED:
        out = "_" + out
    return out


__all__ = ["MAX_STEM", "safe_filename"]
