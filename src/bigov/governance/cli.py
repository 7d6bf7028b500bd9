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
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from bigov.cli_support import (
    DbOption,
    DetailOption,
    ErrorHandlingGroup,
    JsonOption,
    LimitOption,
    RichReporter,
    code_column,
    console,
    fit_table,
    limited,
    more_note,
    number_column,
    open_workspace,
    print_json,
    require_code,
    text_column,
)
from bigov.errors import ConfigError

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
    console.print(
        Text.assemble(
            (f"{doc['node']['name']} — {doc['cycle']['code']}", "bold"),
            f" · as at {doc['period']['as_at']}",
        )
    )
    table = fit_table(
        text_column("figure", min_width=24),
        number_column("value"),
        code_column("key", (r["key"] for r in rows)),
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
    as_json: JsonOption = False,
) -> None:
    """Start a governance design from a built-in template (re-running it resets those nodes)."""
    with open_workspace(db) as ws:
        counts = ws.governance.init_template(template)
    if as_json:
        print_json({"template": template, "counts": counts})
        return
    console.print(
        f"Template [bold]{escape(template)}[/] applied: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )


@governance_app.command("import")
def governance_import(
    path: Annotated[Path, typer.Argument(help="Design file (.yaml or .xlsx).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate and import a governance design (all-or-nothing)."""
    with open_workspace(db) as ws:
        counts = ws.governance.import_design(path)
    if as_json:
        print_json({"file": str(path), "counts": counts})
        return
    console.print(f"Imported {path.name}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@governance_app.command("export")
def governance_export(
    path: Annotated[Path, typer.Argument(help="Where to write (.yaml or .xlsx).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export the governance design to edit and re-import."""
    with open_workspace(db) as ws:
        ws.governance.export_design(path)
    if as_json:
        print_json({"file": str(path)})
        return
    console.print(f"Design written to [bold]{escape(str(path))}[/]")


@governance_app.command("show")
def governance_show(
    node: Annotated[str | None, typer.Argument(help="A node code for its full design.")] = None,
    detail: DetailOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The governance nodes (or one node's design). Their tolerances: --detail."""
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
            import yaml

            console.print(
                yaml.safe_dump(match[0], sort_keys=False, allow_unicode=True), highlight=False
            )
        return
    if as_json:
        print_json(nodes)
        return
    columns: list[Any] = [
        code_column("code", (n["code"] for n in nodes)),
        text_column("name", min_width=16),
        "kind",
        code_column("escalates to", (n["parent"] or "—" for n in nodes)),
        "cadence",
        number_column("agenda items"),
    ]
    if detail:
        columns.append(text_column("tolerances", min_width=20))
    table = fit_table(*columns, title=f"{len(nodes)} governance nodes")
    for n in nodes:
        cells: list[Any] = [
            Text(n["code"]),
            Text(n["name"]),
            n["kind"],
            Text(n["parent"] or "—"),
            n["cadence"],
            str(len(n["agenda"])),
        ]
        if detail:
            cells.append(Text(", ".join(f"{k} {v:g}" for k, v in n["tolerances"].items()) or "—"))
        table.add_row(*cells)
    console.print(table)
    if not detail:
        console.print(Text("Tolerances: --detail; one node's whole design: show CODE.", "dim"))


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
        import yaml

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
def _result_row(r: Any) -> list[Any]:
    return [
        Text(r.code),
        r.status,
        "yes" if r.has_data else "[red]no[/]",
        str(r.exceptions),
        str(r.owned_here),
        str(r.escalated_up),
        " ".join(sorted(r.artefacts)) or "—",
    ]


def _cycle_table(codes: list[str], *extra: Any) -> Any:
    return fit_table(
        code_column("cycle", codes),
        "status",
        *extra,
        "data",
        number_column("exceptions"),
        number_column("owned"),
        number_column("escalated up"),
    )


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
        bool,
        typer.Option(
            "--draft",
            help="Leave the cycle unpublished (re-runnable); publish it with "
            "`bigov cycle publish CODE`.",
        ),
    ] = False,
    no_packs: Annotated[
        bool,
        typer.Option(
            "--no-packs",
            help="Write no packs (a working run): the cycle stays a draft, since a published "
            "cycle always has its packs; `bigov cycle publish CODE --out DIR` writes them.",
        ),
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Directory for the packs.")] = Path("packs"),
    formats: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a node's cycle (or every node due): snapshot, rules, exceptions, escalation, packs.

    For the working month: `--no-packs` (or `--draft`) to look at the exceptions while data
    still arrives (`bigov cycle exceptions CODE`), re-run as often as needed, then
    `bigov cycle publish CODE --out packs` when the board's data is final."""
    if bool(node) == all_nodes:
        raise ConfigError("give exactly one of --node NODE or --all")
    fmts = formats or (["html", "xlsx"] if all_nodes else ["html", "pdf", "xlsx"])
    day = _date(as_at, "--as-at")
    out_dir = None if no_packs else out
    publish = not (draft or no_packs)
    with open_workspace(db) as ws:
        if all_nodes:
            results = ws.governance.run_all(
                period,
                as_at=day,
                new_version=new_version,
                publish=publish,
                out_dir=out_dir,
                formats=fmts,
                reporter=RichReporter(enabled=not as_json),
            )
        else:
            assert node is not None
            results = [
                ws.governance.run_cycle(
                    node,
                    period,
                    as_at=day,
                    new_version=new_version,
                    publish=publish,
                    out_dir=out_dir,
                    formats=fmts,
                )
            ]
    if as_json:
        print_json([r.__dict__ for r in results])
        return
    # pack formats only (the folder is printed once below) so cycle codes are not cut
    table = _cycle_table([r.code for r in results])
    table.add_column("packs")
    for r in results:
        row = _result_row(r)
        table.add_row(*row)
    console.print(table)
    where = f"packs in [bold]{escape(str(out.resolve()))}[/]" if out_dir else "no packs written"
    state = "published" if publish else "draft: publish with bigov cycle publish CODE"
    console.print(f"{len(results)} cycle(s), {state}; {where}")


@cycle_app.command("check")
def cycle_check(
    period: PeriodOption,
    node: Annotated[str, typer.Option("--node", help="Node code.")],
    as_at: AsAtOption = None,
    detail: DetailOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Data readiness before a node sits: present, complete and fresh — and who owes what.
    Exit 1 when a required item is not ready. The source of each item and the ready ones'
    details: --detail."""
    day = _date(as_at, "--as-at")
    with open_workspace(db) as ws:
        rows = ws.governance.check(node, period, as_at=day)
    if as_json:
        print_json(rows)
        return
    colour = {
        "ready": "green",
        "missing": "red",
        "invalid": "red",
        "incomplete": "yellow",
        "stale": "yellow",
    }
    not_ready = [r for r in rows if r["required"] and r["status"] != "ready"]
    console.print(
        Text.assemble(
            (f"Readiness of {node} for {period}", "bold"),
            f" · as at {day or 'the end of the period'} · {len(rows) - len(not_ready)} of "
            f"{len(rows)} ready",
        )
    )
    columns: list[Any] = [text_column("information", min_width=16)]
    if detail:
        columns.append(code_column("source", (r["source"] for r in rows)))
    table = fit_table(
        *columns, "required", "status", text_column("detail", min_width=20), text_column("owed by")
    )
    for r in rows:
        cells: list[Any] = [Text(r["title"])]
        if detail:
            cells.append(Text(r["source"]))
        table.add_row(
            *cells,
            "yes" if r["required"] else "",
            f"[{colour.get(r['status'], 'white')}]{r['status']}[/]",
            Text(r["detail"]),
            Text(r["owed_by"] or "—"),
        )
    console.print(table)
    if not_ready:
        console.print(f"[yellow]{len(not_ready)} required item(s) not ready.[/]")
        raise typer.Exit(1)


@cycle_app.command("list")
def cycle_list(
    node: Annotated[str | None, typer.Option("--node")] = None,
    period: Annotated[str | None, typer.Option("--period")] = None,
    limit: LimitOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cycles run so far (newest period first)."""
    with open_workspace(db) as ws:
        from bigov.governance.models import GovernanceNode

        require_code(ws, "governance node", node, GovernanceNode.code)
        rows = ws.governance.list_cycles(node=node, period=period)
    if as_json:
        print_json(rows)
        return
    shown = limited(rows, limit)
    table = _cycle_table([r["code"] for r in shown], code_column("as at", ["2000-01-01"]))
    for r in shown:
        table.add_row(
            Text(r["code"]),
            r["status"],
            r["as_at"],
            "yes" if r["has_data"] else "no",
            str(r["exceptions"]),
            str(r["owned_here"]),
            str(r["escalated_up"]),
        )
    console.print(table)
    more_note(len(rows), len(shown), how="--limit N, --node CODE, --period YYYY-MM or --json")


@cycle_app.command("exceptions")
def cycle_exceptions(
    code: Annotated[str, typer.Argument(help="Cycle code NODE/YYYY-MM[/vN].")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Include those managed by boards below.")
    ] = False,
    limit: LimitOption = None,
    exact: Annotated[
        bool, typer.Option("--exact", help="Money in full (£1,234,567) instead of £1.23m.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The exceptions a cycle owns (most material first) and those it passed on, with their age
    and escalation path — the cards of its pack."""
    from bigov.cli_support import money_text

    with open_workspace(db) as ws:
        doc = ws.governance.cycle_document(code)
    rows = [e for e in doc["exceptions"] if show_all or e["role"] != "managed below"]
    if as_json:
        print_json(
            {
                "cycle": doc["cycle"]["code"],
                "as_at": doc["period"]["as_at"],
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
    console.print(
        Text.assemble(
            (f"Exceptions of {doc['cycle']['code']}", "bold"),
            f" · as at {doc['period']['as_at']} · {len(rows)} shown",
        )
    )
    shown = limited(rows, limit)
    table = fit_table(
        code_column("code", (e["code"] for e in shown)),
        text_column("exception", min_width=20),
        "role",
        number_column("at stake"),
        number_column("open"),
        text_column("path"),
    )
    for e in shown:
        table.add_row(
            Text(e["code"]),
            Text(e["title"]),
            e["role"],
            money_text(e.get("at_stake"), cur, exact=exact)
            if e.get("at_stake") is not None
            else "—",
            f"{e.get('periods_open') or 1} mo",
            Text(" → ".join(p["node"] for p in e["path"])),
        )
    console.print(table)
    more_note(len(rows), len(shown))


@cycle_app.command("show")
def cycle_show(
    code: Annotated[str, typer.Argument(help="Cycle code NODE/YYYY-MM[/vN].")],
    render: Annotated[
        Path | None, typer.Option("--render", help="Re-render its packs into this directory.")
    ] = None,
    formats: FormatOption = None,
    limit: LimitOption = None,
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
        f"cycle {escape(doc['cycle']['code'])}"
    )
    if not doc["has_data"]:
        console.print("[red]No data for this period.[/]")
    # what the board owns or passed on, as its pack shows them; those managed below are a count
    # (`bigov cycle exceptions CODE --all` lists them)
    shown = [e for e in doc["exceptions"] if e["role"] != "managed below"]
    below = len(doc["exceptions"]) - len(shown)
    listed = limited(shown, limit)
    table = fit_table(
        text_column("exception", min_width=24),
        "role",
        text_column("owner"),
        text_column("path"),
    )
    for e in listed:
        table.add_row(
            Text(e["title"]),
            e["role"],
            Text(e["owner"]),
            Text(" → ".join(p["node"] for p in e["path"])),
        )
    console.print(table)
    more_note(len(shown), len(listed))
    if below:
        console.print(
            f"{below} more managed within the tolerance of boards below "
            "(bigov cycle exceptions CODE --all)."
        )
    for fmt, path in written.items():
        console.print(Text(f"{fmt}: {path}"))


@cycle_app.command("publish")
def cycle_publish(
    code: Annotated[str, typer.Argument(help="Cycle code NODE/YYYY-MM[/vN].")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write its packs here first (a cycle run with --no-packs)."),
    ] = None,
    formats: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a draft cycle; after this it cannot change. With --out its packs are written
    first, so the published cycle has them (bigov doctor reports one that has none)."""
    with open_workspace(db) as ws:
        written = (
            ws.governance.write_packs(code, out, formats or ["html", "pdf", "xlsx"])
            if out is not None
            else {}
        )
        published = ws.governance.publish(code)
    if as_json:
        print_json({"published": published, "packs": written})
        return
    console.print(Text(f"Published {published}"))
    for fmt, path in written.items():
        console.print(Text(f"{fmt}: {path}"))


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
        list[str] | None,
        typer.Option(
            "--otc",
            help="OTC it answers (repeatable): CODE (the version in force on the day) or CODE@vN.",
        ),
    ] = None,
    otc_version: Annotated[
        str | None,
        typer.Option(
            "--otc-version", help="OTC version it decided, e.g. OBJ-1@v2 (as --otc OBJ-1@v2)."
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
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
    if as_json:
        print_json({"code": code, "kind": kind})
        return
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
        from bigov.governance.models import GovernanceNode

        require_code(ws, "governance node", node, GovernanceNode.code)
        rows = ws.governance.decisions(node=node, cycle=cycle)
    if as_json:
        print_json(rows)
        return
    if not rows:
        # the RAID log's decisions are not cycle records: say so, or the readiness check's
        # "N in the RAID log" would seem to contradict this
        scope = f" for cycle {cycle}" if cycle else f" for {node}" if node else ""
        console.print(
            Text(
                f"No decisions or actions recorded at a cycle{scope} (bigov decision add "
                "--cycle CODE records one; the RAID log's own decisions are not listed here)."
            )
        )
        return
    # one table per cycle (its code the title) so a row keeps its width for the title and codes
    by_cycle: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_cycle.setdefault(r["cycle"], []).append(r)
    for cycle_code, group in by_cycle.items():
        concerns = [c for r in group for c in r["items"] + r["otc_versions"]]
        widths = [
            max(len(str(r[key] or "—")) for r in group)
            for key in ("code", "kind", "decided_on", "status", "due_on")
        ]
        if sum(widths) + max([11, *map(len, concerns)]) + 12 + 2 * 6 > console.width:
            # too narrow for a table whose codes stay whole: one block per decision instead
            console.print(Text(cycle_code, style="bold"))
            for r in group:
                head = f"{r['code']} · {r['kind']} · {r['decided_on'] or '—'} · {r['status']}"
                console.print(Text(head + (f" · due {r['due_on']}" if r["due_on"] else "")))
                console.print(Text("  " + r["title"]))
                for c in r["items"] + r["otc_versions"]:
                    console.print(Text("  - " + c))
            continue
        table = fit_table(
            code_column("code", (r["code"] for r in group)),
            code_column("kind", (r["kind"] for r in group)),
            code_column("date", (r["decided_on"] or "—" for r in group)),
            text_column("title"),
            # codes wrap between one another, never inside one
            Column(
                "items, OTCs", overflow="fold", min_width=max([11, *(len(c) for c in concerns)])
            ),
            code_column("status", (r["status"] for r in group)),
            code_column("due", (r["due_on"] or "—" for r in group)),
            title=Text(cycle_code, style="bold"),
        )
        for r in group:
            table.add_row(
                r["code"],
                r["kind"],
                r["decided_on"] or "—",
                Text(r["title"]),
                # one code a line: a wrapped ", " would start a line with a comma
                "\n".join(r["items"] + r["otc_versions"]) or "—",
                r["status"],
                r["due_on"] or "—",
            )
        console.print(table)


__all__ = ["cycle_app", "decision_app", "governance_app", "register"]
