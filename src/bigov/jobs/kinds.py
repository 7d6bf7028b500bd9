"""The built-in job kinds: governance cycles (one node, or a month split into one job per node
in escalation order), packs, imports, metrics loads and recomputes, the optimiser and its
frontier, and readiness checks. Each is a thin call of the context's service, which already
does its work in all-or-nothing transactions and reports through the Reporter interface."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from bigov.errors import ConfigError, ConflictError
from bigov.governance.cycle import SharedInputs
from bigov.jobs.context import Child, JobContext
from bigov.jobs.registry import register

DEFAULT_FORMATS = ("html",)


def _need(args: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not args.get(n)]
    if missing:
        raise ConfigError(f"job argument(s) missing: {', '.join(missing)}")


def _formats(args: dict[str, Any]) -> tuple[str, ...]:
    formats = args.get("formats") or DEFAULT_FORMATS
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    return tuple(str(f) for f in formats)


def _out(args: dict[str, Any]) -> Path | None:
    return Path(str(args["out_dir"])) if args.get("out_dir") else None


def _as_at(args: dict[str, Any]) -> dt.date | None:
    value = args.get("as_at")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"as_at must be YYYY-MM-DD, not {value!r}") from exc


def _file_key(prefix: str, args: dict[str, Any], *extra: str) -> str | None:
    """Names an import by the file's content, so the same file submitted twice is one job."""
    path = Path(str(args.get("path") or ""))
    if not path.is_file():
        return None  # the job fails with the reason; nothing to name
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    parts = [prefix, digest.hexdigest(), *(str(args.get(e) or "") for e in extra)]
    return ":".join(parts)[:255]


# -- governance cycles ---------------------------------------------------------------------
def month_stages(ctx: JobContext, period: str) -> list[list[str]]:
    """The nodes due in ``period`` by their cadence, in stages: the deepest nodes first, as
    :func:`bigov.governance.cycle.run_all` orders them, because exceptions escalate upwards — a
    node's cycle must see what the cycles below it raised. Nodes of one stage are independent."""
    from bigov.governance.models import Cadence
    from bigov.governance.periods import is_due, parse_period
    from bigov.governance.topology import Topology

    month = parse_period(period)
    fy_start = ctx.ws.fiscal_year_start_month
    with ctx.ws.session() as s:
        topo = Topology(s)
        due = [n for n in topo.nodes.values() if is_due(Cadence(n.cadence), month, fy_start)]
        depths = {n.id: topo.depth(n.id) for n in due}
    levels: dict[int, list[str]] = {}
    for n in due:
        levels.setdefault(depths[n.id], []).append(n.code)
    return [sorted(levels[d]) for d in sorted(levels, reverse=True)]


# The inputs of the month being run, per month job, in this process: the nodes of one month
# share their topology, facts and figures as run_all does (reading them is most of a small
# node's cycle). Two are kept: a worker may take the first node of the next month while the
# last of this one finishes elsewhere.
_SHARED: dict[int, SharedInputs] = {}
_SHARED_LOCK = threading.Lock()


def _shared_inputs(ctx: JobContext) -> SharedInputs | None:
    if ctx.parent_id is None:
        return None
    with _SHARED_LOCK:
        found = _SHARED.get(ctx.parent_id)
        if found is None:
            while len(_SHARED) >= 2:
                _SHARED.pop(next(iter(_SHARED)))
            found = _SHARED[ctx.parent_id] = SharedInputs()
        return found


@register(
    "cycle.month",
    title="A month of governance cycles, one job per node",
    dedupe=lambda a: f"cycle.month:{a.get('period')}",
)
def cycle_month(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "period")
    stages = month_stages(ctx, str(args["period"]))
    node_args = {k: args[k] for k in ("out_dir", "formats", "as_at") if args.get(k)}
    ctx.plan(
        [
            Child("cycle.run", {**node_args, "node": code, "period": args["period"]}, stage=i)
            for i, codes in enumerate(stages)
            for code in codes
        ]
    )
    return {"period": args["period"], "nodes": sum(map(len, stages)), "stages": len(stages)}


@register(
    "cycle.run",
    title="A governance cycle of one node",
    dedupe=lambda a: f"cycle.run:{a.get('node')}:{a.get('period')}",
)
def cycle_run(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    """Run (or finish) a node's cycle. Safe twice: a draft left by a killed run is replaced, a
    published cycle whose packs are missing gets them, one that is complete is left alone."""
    _need(args, "node", "period")
    node, period = str(args["node"]), str(args["period"])
    shared = _shared_inputs(ctx)
    for attempt in range(3):
        try:
            r = ctx.ws.governance.run_cycle(
                node,
                period,
                out_dir=_out(args),
                formats=_formats(args),
                as_at=_as_at(args),
                shared=shared,
            )
        except ConflictError:
            latest = ctx.ws.governance.list_cycles(node=node, period=period)[0]
            ctx.log(f"{latest['code']} is published with its packs already: nothing to do")
            return {"cycle": latest["code"], "ran": False}
        except IntegrityError:
            # a cycle of the same stage raised the same exception (rule, subject, period) at
            # the same moment and committed first; a second try sees it, as a later cycle would
            if attempt == 2:
                raise
            ctx.log(f"{node}: an exception was raised concurrently by another cycle; retrying")
            continue
        ctx.reporter.advance()
        return {
            "cycle": r.code,
            "ran": True,
            "sha256": r.sha256,
            "exceptions": r.exceptions,
            "artefacts": r.artefacts,
        }
    raise AssertionError("unreachable")  # pragma: no cover


@register("pack.render", title="Render a cycle's packs")
def pack_render(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "cycle", "out_dir")
    out = _out(args)
    assert out is not None
    written = ctx.ws.governance.write_packs(str(args["cycle"]), out, _formats(args))
    return {"cycle": args["cycle"], "artefacts": written}


@register(
    "cycle.readiness",
    title="Data readiness of a node before its cut-off",
    dedupe=lambda a: f"cycle.readiness:{a.get('node')}:{a.get('period')}:{a.get('on') or ''}",
)
def cycle_readiness(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "node", "period")
    rows = ctx.ws.governance.check(str(args["node"]), str(args["period"]), as_at=_as_at(args))
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[str(r.get("status"))] = by_status.get(str(r.get("status")), 0) + 1
    missing = [r for r in rows if r.get("status") not in ("ready", "not due")]
    for r in missing[:50]:
        ctx.log(f"not ready: {r.get('code') or r.get('information')}: {r.get('status')}")
    return {"node": args["node"], "period": args["period"], "by_status": by_status}


# -- data ----------------------------------------------------------------------------------
@register(
    "import",
    title="Import a file as one batch",
    dedupe=lambda a: _file_key("import", a, "kind", "mapping", "preset", "importer"),
)
def import_file(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    from bigov.ingest.service import import_file as run_import
    from bigov.ingest.service import resolve_options

    _need(args, "path")
    options = resolve_options(
        mapping=Path(str(args["mapping"])) if args.get("mapping") else None,
        preset=str(args["preset"]) if args.get("preset") else None,
        kind=str(args["kind"]) if args.get("kind") else None,
    )
    result = run_import(
        ctx.ws,
        Path(str(args["path"])),
        options=options,
        importer=str(args["importer"]) if args.get("importer") else None,
        user=ctx.started_by,
        reporter=ctx.reporter,
    )
    return result.model_dump(mode="json")


@register(
    "metrics.load",
    title="Load metric observations",
    dedupe=lambda a: _file_key("metrics.load", a, "label"),
)
def metrics_load(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "path")
    result = ctx.ws.metrics.load(
        Path(str(args["path"])),
        label=str(args["label"]) if args.get("label") else None,
        reporter=ctx.reporter,
        user=ctx.started_by,
    )
    return result.model_dump(mode="json")


@register("metrics.recompute", title="Recompute metric aggregates from the raw store")
def metrics_recompute(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    result = ctx.ws.metrics.recompute(
        str(args["measure"]) if args.get("measure") else None,
        reporter=ctx.reporter,
        user=ctx.started_by,
    )
    return result.model_dump(mode="json")


# -- portfolio -----------------------------------------------------------------------------
@register(
    "portfolio.optimise",
    title="Optimise the portfolio into a scenario",
    dedupe=lambda a: f"portfolio.optimise:{a.get('name')}",
)
def portfolio_optimise(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    from bigov.portfolio.builder import RoundOptions

    _need(args, "name", "years")
    options = RoundOptions.model_validate(
        {k: v for k, v in args.items() if k in RoundOptions.model_fields}
    )
    summary = ctx.ws.portfolio.optimise(
        str(args["name"]),
        options,
        time_limit=float(args["time_limit"]) if args.get("time_limit") else None,
        created_by=ctx.started_by,
        reporter=ctx.reporter,
    )
    return summary.model_dump(mode="json")


@register("portfolio.frontier", title="Efficient frontier of a portfolio problem")
def portfolio_frontier(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    from bigov.portfolio.frontier import compute_frontier
    from bigov.portfolio.problem import load_problem

    _need(args, "problem")
    problem = load_problem(Path(str(args["problem"])))
    ctx.reporter.start("frontier", total=None)
    frontier = compute_frontier(
        problem,
        int(args.get("points") or 20),
        dimension="capacity" if args.get("skill") else "budget",
        resource=args.get("skill") or args.get("source"),
        time_limit=float(args["time_limit"]) if args.get("time_limit") else None,
        workers=2,  # two one-thread HiGHS instances: a long job, which a second core shortens
    )
    ctx.reporter.finish()
    return frontier.model_dump(mode="json")


__all__ = ["month_stages"]
