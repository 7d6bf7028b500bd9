"""CLI of the governance context: ``bigov governance …``, ``bigov cycle …``, ``bigov decision …``.

Thin commands: unpack arguments, call :class:`~bigov.governance.service.GovernanceService`, print.
Mount with :func:`register` (or add :data:`governance_app`, :data:`cycle_app` and
:data:`decision_app`).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    JsonOption,
    RichReporter,
    console,
    open_workspace,
    print_json,
    require_code,
)
from bigov.errors import ConfigError
from bigov.governance.models import GovernanceNode

governance_app = typer.Typer(
    name="governance",
    cls=ErrorHandlingGroup,
    no_args_is_help=True,
    help="Governance design: nodes, tolerances, agendas, information definitions.",
)
cycle_app = typer.Typer(
    name="cycle",
    cls=ErrorHandlingGroup,
    no_args_is_help=True,
    help="Governance cycles: readiness, snapshot, exceptions, escalation, MI packs.",
)
decision_app = typer.Typer(
    name="decision",
    cls=ErrorHandlingGroup,
    no_args_is_help=True,
    help="Decisions and actions taken at a cycle.",
)

PeriodOption = Annotated[
    str, typer.Option("--period", help="Period as YYYY-MM (the last month a cycle covers).")
]
AsAtOption = Annotated[
    str | None,
    typer.Option(
        "--as-at", help="Freeze data as at this date (YYYY-MM-DD); default: end of the period."
    ),
]
FormatOption = Annotated[
    list[str] | None,
    typer.Option("--format", "-f", help="Pack format: html, pdf, xlsx (repeatable)."),
]


def _date(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date YYYY-MM-DD, not {text!r}") from exc


def register(app: typer.Typer) -> None:
    """Mount the governance, cycle and decision sub-apps on the ``bigov`` app."""
    app.add_typer(governance_app)
    app.add_typer(cycle_app)
    app.add_typer(decision_app)
    app.command("figures")(figures_command)


# -- governed figures ------------------------------------------------------------------------
def figures_command(
    code: Annotated[
        str | None, typer.Argument(help="Cycle code NODE/YYYY-MM[/vN].", show_default=False)
    ] = None,
    glossary: Annotated[
        bool, typer.Option("--glossary", help="Print the definitions (docs/figures.md) instead.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The governed figures of a cycle: key, label, value, unit, as-at date — the same values its
    HTML pack (data-figure), XLSX (Figures sheet) and the API show."""
    from bigov.figures import figure_rows, glossary_markdown
    from bigov.figures.format import figure as shown

    if glossary:
        sys.stdout.write(glossary_markdown())
        return
    if code is None:
        raise ConfigError("name a cycle (NODE/YYYY-MM[/vN]), or ask for --glossary")
    with open_workspace(db) as ws:
        doc = ws.governance.cycle_document(code)
    rows = figure_rows(doc)
    if as_json:
        print_json(
            {"cycle": doc["cycle"]["code"], "as_at": doc["period"]["as_at"], "figures": rows}
        )
        return
    cur = doc.get("currency", "GBP")
    table = Table(
        "figure",
        Column("value", justify="right"),
        "key",
        title=Text(
            f"{doc['node']['name']} — {doc['cycle']['code']}, as at {doc['period']['as_at']}"
        ),
    )
    for r in rows:
        table.add_row(Text(r["label"]), shown(r["key"], r["value"], cur), r["key"])
    console.print(table)


# -- governance ------------------------------------------------------------------------------
@governance_app.command("init")
def governance_init(
    template: Annotated[
        str, typer.Option(help="typical, small-company or uk-public-sector.")
    ] = "typical",
    db: DbOption = None,
) -> None:
    """Start a governance design from a built-in template (re-running it resets those nodes)."""
    with open_workspace(db) as ws:
        counts = ws.governance.init_template(template)
    console.print(
        f"Template [bold]{escape(template)}[/] applied: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )


@governance_app.command("import")
def governance_import(
    path: Annotated[Path, typer.Argument(help="Design file (.yaml or .xlsx).")], db: DbOption = None
) -> None:
    """Validate and import a governance design (all-or-nothing)."""
    with open_workspace(db) as ws:
        counts = ws.governance.import_design(path)
    console.print(f"Imported {path.name}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@governance_app.command("export")
def governance_export(
    path: Annotated[Path, typer.Argument(help="Where to write (.yaml or .xlsx).")],
    db: DbOption = None,
) -> None:
    """Export the governance design to edit and re-import."""
    with open_workspace(db) as ws:
        ws.governance.export_design(path)
    console.print(f"Design written to [bold]{escape(str(path))}[/]")


@governance_app.command("show")
def governance_show(
    node: Annotated[str | None, typer.Argument(help="A node code for its full design.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The governance nodes (or one node's design)."""
    with open_workspace(db) as ws:
        design = ws.governance.design()
    nodes = design["nodes"]
    if node is not None:
        match = [n for n in nodes if n["code"] == node]
        if not match:
            from bigov.errors import NotFoundError

            raise NotFoundError(f"no governance node with code {node!r}")
        if as_json:
            print_json(match[0])
        else:
            console.print(
                yaml.safe_dump(match[0], sort_keys=False, allow_unicode=True), highlight=False
            )
        return
    if as_json:
        print_json(nodes)
        return
    table = Table("code", "name", "kind", "escalates to", "cadence", "tolerances", "agenda items")
    for n in nodes:
        tol = ", ".join(f"{k} {v:g}" for k, v in n["tolerances"].items())
        table.add_row(
            n["code"],
            n["name"],
            n["kind"],
            n["parent"] or "—",
            n["cadence"],
            tol or "—",
            str(len(n["agenda"])),
        )
    console.print(table)


@governance_app.command("propose")
def governance_propose(
    out: Annotated[
        Path | None, typer.Option(help="Write the proposed new nodes as a design YAML.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which node governs each item, what no node governs, and the nodes that would govern it."""
    with open_workspace(db) as ws:
        proposal = ws.governance.propose()
    if out is not None:
        out.write_text(yaml.safe_dump(proposal.design(), sort_keys=False), encoding="utf-8")
    if as_json:
        print_json(
            {
                "items": proposal.items,
                "ungoverned_work": proposal.ungoverned_work,
                "ungoverned_otcs": proposal.ungoverned_otcs,
                "new_nodes": proposal.new_nodes,
            }
        )
        return
    gaps = [r for r in proposal.items if r["governed_by"] is None]
    table = Table("work item", "kind", "nature", "proposed node", "why")
    for r in gaps:
        table.add_row(r["code"], r["kind"], r["nature"], r["proposed"] or "—", r["reason"])
    governed = len(proposal.items) - len(gaps)
    console.print(f"{governed} live work items are governed; {len(gaps)} are not.")
    if gaps:
        console.print(table)
    if proposal.ungoverned_otcs:
        console.print("OTCs no node governs: " + ", ".join(proposal.ungoverned_otcs))
    if out is not None:
        console.print(
            f"{len(proposal.new_nodes)} proposed nodes written to [bold]{escape(str(out))}[/]; "
            "review, then [bold]bigov governance import[/] it."
        )


# -- cycle -----------------------------------------------------------------------------------
def _result_row(r: Any) -> list[str]:
    return [
        r.code,
        r.status,
        "yes" if r.has_data else "[red]no[/]",
        str(r.exceptions),
        str(r.owned_here),
        str(r.escalated_up),
        " ".join(sorted(r.artefacts)) or "—",
    ]


@cycle_app.command("run")
def cycle_run(
    period: PeriodOption,
    node: Annotated[str | None, typer.Option("--node", help="Node code.")] = None,
    all_nodes: Annotated[bool, typer.Option("--all", help="Every node due in the period.")] = False,
    as_at: AsAtOption = None,
    new_version: Annotated[
        bool, typer.Option("--new-version", help="Re-run a published cycle as version N+1.")
    ] = False,
    draft: Annotated[
        bool, typer.Option("--draft", help="Leave the cycle unpublished (re-runnable).")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Directory for the packs.")] = Path("packs"),
    formats: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a node's cycle (or every node due): snapshot, rules, exceptions, escalation, packs."""
    if bool(node) == all_nodes:
        raise ConfigError("give exactly one of --node NODE or --all")
    fmts = formats or (["html", "xlsx"] if all_nodes else ["html", "pdf", "xlsx"])
    day = _date(as_at, "--as-at")
    with open_workspace(db) as ws:
        if all_nodes:
            results = ws.governance.run_all(
                period,
                as_at=day,
                new_version=new_version,
                publish=not draft,
                out_dir=out,
                formats=fmts,
                reporter=RichReporter(),
            )
        else:
            assert node is not None
            results = [
                ws.governance.run_cycle(
                    node,
                    period,
                    as_at=day,
                    new_version=new_version,
                    publish=not draft,
                    out_dir=out,
                    formats=fmts,
                )
            ]
    if as_json:
        print_json([r.__dict__ for r in results])
        return
    # Pack formats only (the folder is printed once below) so cycle codes are not truncated.
    table = Table("cycle", "status", "data", "exceptions", "owned", "escalated up", "packs")
    for r in results:
        table.add_row(*_result_row(r))
    console.print(table)
    console.print(f"{len(results)} cycle(s); packs in [bold]{escape(str(out.resolve()))}[/]")


@cycle_app.command("check")
def cycle_check(
    period: PeriodOption,
    node: Annotated[str, typer.Option("--node", help="Node code.")],
    as_at: AsAtOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Data readiness before a node sits: present, complete and fresh — and who owes what."""
    with open_workspace(db) as ws:
        rows = ws.governance.check(node, period, as_at=_date(as_at, "--as-at"))
    if as_json:
        print_json(rows)
        return
    table = Table("information", "source", "required", "status", "detail", "owed by")
    colour = {
        "ready": "green",
        "missing": "red",
        "invalid": "red",
        "incomplete": "yellow",
        "stale": "yellow",
    }
    for r in rows:
        table.add_row(
            r["title"],
            r["source"],
            "yes" if r["required"] else "",
            f"[{colour.get(r['status'], 'white')}]{r['status']}[/]",
            r["detail"],
            r["owed_by"] or "—",
        )
    console.print(table)
    not_ready = [r for r in rows if r["required"] and r["status"] != "ready"]
    if not_ready:
        console.print(f"[yellow]{len(not_ready)} required item(s) not ready.[/]")
        raise typer.Exit(1)


@cycle_app.command("list")
def cycle_list(
    node: Annotated[str | None, typer.Option("--node")] = None,
    period: Annotated[str | None, typer.Option("--period")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cycles run so far (newest period first)."""
    with open_workspace(db) as ws:
        require_code(ws, "governance node", node, GovernanceNode.code)
        rows = ws.governance.list_cycles(node=node, period=period)
    if as_json:
        print_json(rows)
        return
    table = Table("cycle", "status", "as at", "data", "exceptions", "owned", "escalated up")
    for r in rows:
        table.add_row(
            r["code"],
            r["status"],
            r["as_at"],
            "yes" if r["has_data"] else "no",
            str(r["exceptions"]),
            str(r["owned_here"]),
            str(r["escalated_up"]),
        )
    console.print(table)


@cycle_app.command("exceptions")
def cycle_exceptions(
    code: Annotated[str, typer.Argument(help="Cycle code NODE/YYYY-MM[/vN].")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Include those managed by boards below.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The exceptions a cycle owns (most material first) and those it passed on, with their age
    and escalation path — the cards of its pack."""
    from bigov.figures.format import money

    with open_workspace(db) as ws:
        doc = ws.governance.cycle_document(code)
    rows = [e for e in doc["exceptions"] if show_all or e["role"] != "managed below"]
    if as_json:
        print_json(
            {
                "cycle": doc["cycle"]["code"],
                "owned": [e for e in rows if e["role"] == "owned"],
                "passed_on": [e for e in rows if e["role"] in ("escalated up", "passed on")],
                **(
                    {"managed_below": [e for e in rows if e["role"] == "managed below"]}
                    if show_all
                    else {}
                ),
            }
        )
        return
    cur = doc.get("currency", "GBP")
    table = Table(
        "code",
        "exception",
        "role",
        Column("at stake", justify="right"),
        Column("open", justify="right"),
        "path",
        title=Text(f"Exceptions of {doc['cycle']['code']}"),
    )
    for e in rows:
        table.add_row(
            e["code"],
            Text(e["title"]),
            e["role"],
            money(e.get("at_stake"), cur) if e.get("at_stake") is not None else "—",
            f"{e.get('periods_open') or 1} mo",
            Text(" → ".join(p["node"] for p in e["path"])),
        )
    console.print(table)


@cycle_app.command("show")
def cycle_show(
    code: Annotated[str, typer.Argument(help="Cycle code NODE/YYYY-MM[/vN].")],
    render: Annotated[
        Path | None, typer.Option("--render", help="Re-render its packs into this directory.")
    ] = None,
    formats: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A cycle's exceptions (with escalation paths) and readiness, from its frozen snapshot."""
    with open_workspace(db) as ws:
        doc = ws.governance.cycle_document(code)
        written = (
            ws.governance.write_packs(doc["cycle"]["code"], render, formats or ["html"])
            if render
            else {}
        )
    if as_json:
        print_json(doc)
        return
    console.print(
        f"[bold]{escape(doc['node']['name'])}[/] — {doc['period']['label']} "
        f"(as at {doc['period']['as_at']}), "
        f"cycle {doc['cycle']['code']}"
    )
    if not doc["has_data"]:
        console.print("[red]No data for this period.[/]")
    # what the board owns or passed on, as its pack shows them; those managed below are a count
    # (`bigov cycle exceptions CODE --all` lists them)
    shown = [e for e in doc["exceptions"] if e["role"] != "managed below"]
    below = len(doc["exceptions"]) - len(shown)
    table = Table("exception", "role", "owner", "path")
    for e in shown:
        table.add_row(
            Text(e["title"]),
            e["role"],
            Text(e["owner"]),
            Text(" → ".join(p["node"] for p in e["path"])),
        )
    console.print(table)
    if below:
        console.print(
            f"{below} more managed within the tolerance of boards below "
            "(bigov cycle exceptions CODE --all)."
        )
    for fmt, path in written.items():
        console.print(f"{fmt}: {path}")


@cycle_app.command("publish")
def cycle_publish(code: Annotated[str, typer.Argument()], db: DbOption = None) -> None:
    """Publish a draft cycle; after this it cannot change."""
    with open_workspace(db) as ws:
        published = ws.governance.publish(code)
    console.print(f"Published {published}")


# -- decision --------------------------------------------------------------------------------
@decision_app.command("add")
def decision_add(
    cycle: Annotated[str, typer.Option("--cycle", help="Cycle code NODE/YYYY-MM[/vN].")],
    title: Annotated[str, typer.Option("--title")],
    kind: Annotated[str, typer.Option("--kind", help="decision or action.")] = "decision",
    items: Annotated[
        list[str] | None, typer.Option("--item", help="Work item affected (repeatable).")
    ] = None,
    exception: Annotated[
        str | None, typer.Option("--exception", help="Exception code it answers.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Person code.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date YYYY-MM-DD (actions).")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Day decided, YYYY-MM-DD (default: the cycle's as-at date)."),
    ] = None,
    otcs: Annotated[
        list[str] | None, typer.Option("--otc", help="OTC it concerns (repeatable).")
    ] = None,
    otc_version: Annotated[
        str | None,
        typer.Option("--otc-version", help="OTC version it decided, e.g. OBJ-1@v2."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Record a decision or action taken at a cycle, against the items and OTCs it affects.
    Its date is --date, or else the as-at date of the cycle."""
    with open_workspace(db) as ws:
        code = ws.governance.add_decision(
            cycle,
            title,
            kind=kind,
            items=items or [],
            exception=exception,
            owner=owner,
            due=_date(due, "--due"),
            description=description,
            decided_on=_date(date, "--date"),
            otcs=otcs or [],
            otc_version=otc_version,
        )
    console.print(f"Recorded {kind} [bold]{escape(code)}[/]")


@decision_app.command("list")
def decision_list(
    node: Annotated[str | None, typer.Option("--node")] = None,
    cycle: Annotated[str | None, typer.Option("--cycle")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decisions and actions recorded at cycles."""
    with open_workspace(db) as ws:
        require_code(ws, "governance node", node, GovernanceNode.code)
        rows = ws.governance.decisions(node=node, cycle=cycle)
    if as_json:
        print_json(rows)
        return
    table = Table("code", "kind", "date", "title", "cycle", "items", "status", "due")
    for r in rows:
        table.add_row(
            r["code"],
            r["kind"],
            r["decided_on"] or "—",
            r["title"],
            r["cycle"],
            ", ".join(r["items"] + r["otcs"]) or "—",
            r["status"],
            r["due_on"] or "—",
        )
    console.print(table)


__all__ = ["cycle_app", "decision_app", "governance_app", "register"]
