"""The importer hook list: every source of data (built-in or plug-in) is an :class:`Importer`.

An importer turns a file into raw rows by kind; validation, batching and loading are shared, so an
importer only knows its format. Register one with the decorator::

    @register
    class MyImporter:
        name = "mytool"
        suffixes = (".mtx",)
        def accepts(self, path: Path, options: ImportOptions) -> bool: ...
        def read(self, path: Path, options: ImportOptions) -> list[RecordSet]: ...

The built-ins (``tabular``, ``gmpp``, ``mpxj``) register themselves the same way when
:func:`load_builtins` imports their modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from bigov.errors import ConfigError
from bigov.ingest.mapping import Mapping, RecordSet


@dataclass
class ImportOptions:
    """What the caller asked for: a mapping (from a file or a preset), a kind, free options."""

    mapping: Mapping = field(default_factory=Mapping)
    kind: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # what an importer noticed but imported anyway (shown with the result, kept on the batch)
    warnings: list[str] = field(default_factory=list)

    def max_bytes(self) -> int | None:
        """The ``max_bytes`` option (None: the limit of the file's kind).

        Raises:
            ConfigError: not a whole number.
        """
        raw = self.extra.get("max_bytes")
        if raw is None or raw == "":
            return None
        try:
            return int(str(raw).replace("_", ""))
        except ValueError:
            raise ConfigError(f"--option max_bytes={raw!r}: expected a whole number") from None


@runtime_checkable
class Importer(Protocol):
    """A source format. ``read`` raises :class:`~bigov.errors.ValidationError` for bad input."""

    name: str
    suffixes: tuple[str, ...]

    def accepts(self, path: Path, options: ImportOptions) -> bool:
        """True when this importer can read ``path`` (used when none is named)."""
        ...

    def read(self, path: Path, options: ImportOptions) -> list[RecordSet]:
        """Raw rows by kind (one RecordSet per table read)."""
        ...


IMPORTERS: dict[str, Importer] = {}

BUILTIN_MODULES: tuple[str, ...] = (
    "bigov.ingest.tabular",
    "bigov.ingest.gmpp",
    "bigov.ingest.mpxj_importer",
    "bigov.ingest.projectonline.importer",
    "bigov.ingest.export_folder",
)

T = TypeVar("T")


def register(cls: type[T]) -> type[T]:
    """Class decorator: instantiate the importer and add it to :data:`IMPORTERS` by name."""
    instance = cls()
    if not isinstance(instance, Importer):
        raise TypeError(f"{cls.__name__} does not implement the Importer protocol")
    IMPORTERS[instance.name] = instance
    return cls


def load_builtins() -> dict[str, Importer]:
    """Import the built-in importer modules (idempotent) and return the registry."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    return IMPORTERS


def get_importer(name: str) -> Importer:
    """The importer called ``name``.

    Raises:
        ConfigError: unknown name (the message lists the registered importers).
    """
    load_builtins()
    try:
        return IMPORTERS[name]
    except KeyError:
        raise ConfigError(
            f"no importer named {name!r}", hint="importers: " + ", ".join(sorted(IMPORTERS))
        ) from None


def choose_importer(path: Path, options: ImportOptions) -> Importer:
    """The importer named by the mapping (``importer:``), else the first that accepts the file
    (tabular formats first, then the others in registration order)."""
    load_builtins()
    if options.mapping.importer != "tabular":
        return get_importer(options.mapping.importer)
    for importer in IMPORTERS.values():
        if importer.accepts(path, options):
            return importer
    return IMPORTERS["tabular"]  # it raises the clear "unsupported file type" error


ImporterFactory = Callable[[], Importer]
