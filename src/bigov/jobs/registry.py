"""The job kinds: what work a job can do. A context adds its own kind by registering it here,
the built-ins too (:mod:`bigov.jobs.kinds`)::

    from bigov.jobs.registry import register

    @register("datacall.reminders", title="Data-call reminders", dedupe=lambda a: ...)
    def reminders(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
        ...

A kind's function runs in a worker (or in the submitting process on SQLite), reports progress
through ``ctx.reporter`` (the :class:`~bigov.progress.Reporter` interface), writes log lines
with ``ctx.log`` and returns a small JSON-able result. It must do its work in transactions of
its own so that a failure part-way leaves nothing half-written, and be safe to run twice (a
worker killed mid-job has the job run again): the second run finishes or skips the work, never
repeats it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bigov.errors import ConfigError

if TYPE_CHECKING:
    from bigov.jobs.context import JobContext

JobFunction = Callable[["JobContext", dict[str, Any]], dict[str, Any]]
DedupeKey = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True)
class JobKind:
    """A registered kind. ``dedupe`` names the work (None: every submission is new work);
    ``queue`` lets a deployment give slow kinds (optimiser frontiers) workers of their own."""

    name: str
    run: JobFunction
    title: str
    queue: str = "default"
    dedupe: DedupeKey | None = None


_KINDS: dict[str, JobKind] = {}

# modules whose import registers kinds; the optional ones belong to contexts that may be absent
# from a partial install (data calls register their reminders from bigov.datacall.jobs)
KIND_MODULES: tuple[str, ...] = ("bigov.jobs.kinds",)
OPTIONAL_KIND_MODULES: tuple[str, ...] = ("bigov.datacall.jobs",)
_loaded = False


def register(
    name: str, *, title: str, queue: str = "default", dedupe: DedupeKey | None = None
) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn`` as the job kind ``name`` (a dotted, lower-case name: ``context.action``).

    Raises:
        ConfigError: ``name`` is registered already by another function.
    """

    def add(fn: JobFunction) -> JobFunction:
        known = _KINDS.get(name)
        if known is not None and known.run is not fn:
            raise ConfigError(f"job kind {name!r} is registered twice")
        _KINDS[name] = JobKind(name=name, run=fn, title=title, queue=queue, dedupe=dedupe)
        return fn

    return add


def load_kinds() -> dict[str, JobKind]:
    """Every registered kind, importing the modules that register them on first use."""
    global _loaded
    if not _loaded:
        for module in KIND_MODULES:
            importlib.import_module(module)
        for module in OPTIONAL_KIND_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if not exc.name or not module.startswith(exc.name):
                    raise
        _loaded = True
    return dict(_KINDS)


def get_kind(name: str) -> JobKind:
    """A kind by name.

    Raises:
        ConfigError: no such kind.
    """
    kinds = load_kinds()
    kind = kinds.get(name)
    if kind is None:
        raise ConfigError(f"unknown job kind {name!r}; choose from {', '.join(sorted(kinds))}")
    return kind


__all__ = ["JobFunction", "JobKind", "get_kind", "load_kinds", "register"]
