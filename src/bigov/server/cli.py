"""`bigov serve`, `bigov user`, `bigov token` and `bigov audit`. The CLI keeps full access: it is
the operator's tool on the database itself, so these commands are not scoped."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.text import Text

from bigov.cli_support import (
    DbOption,
    JsonOption,
    code_column,
    console,
    fit_table,
    open_workspace,
    print_json,
    text_column,
)
from bigov.errors import ConfigError, ValidationError

user_app = typer.Typer(no_args_is_help=True, help="Users of the server: add, list, disable.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens: create (shown once), revoke.")


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes (PostgreSQL only; SQLite uses one).")
    ] = 1,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and sign-in with uvicorn.
    Ctrl-C or SIGTERM stops it gracefully: requests in flight finish first."""
    import uvicorn

    from bigov.server.app import shared_secret
    from bigov.server.settings import ServerSettings

    # open (and migrate) once here, so a bad URL is one clear line, not a trace per worker
    with open_workspace(db) as ws:
        if ws.backend == "sqlite" and workers > 1:
            raise ConfigError(
                "SQLite is served by one process",
                hint="use --workers 1, or PostgreSQL for several processes",
            )
        shared_secret(ws)
        url = ws.describe(hide_password=False)
    settings = ServerSettings(db_url=url, host=host, port=port, workers=workers)
    os.environ["BIGOV_DB"] = url
    console.print(
        Text(f"bigov serving {ws.describe()} on http://{host}:{port} ({workers} process(es))")
    )
    uvicorn.run(
        "bigov.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # ours is structured (bigov.access), one JSON line per request
        proxy_headers=True,
        timeout_graceful_shutdown=settings.graceful_timeout,
        log_level="info",
    )


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The user's email (their sign-in name).")],
    role: Annotated[
        str,
        typer.Option(help="admin, pmo, board_member, manager, benefit_owner or viewer."),
    ],
    unit: Annotated[list[str], typer.Option(help="Org unit code (with units below); repeat.")] = [],  # noqa: B006
    node: Annotated[list[str], typer.Option(help="Governance node code the user sits on.")] = [],  # noqa: B006
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user with a role and the units and nodes that scope what they see."""
    from bigov.auth.service import add_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationError("password: nothing read from standard input")
    with open_workspace(db) as ws, ws.session() as s:
        add_user(s, email, role, password=password, units=unit, nodes=node)
    if as_json:
        print_json({"added": email.strip().lower(), "role": role, "units": unit, "nodes": node})
        return
    console.print(Text(f"added {email.strip().lower()} ({role})"))


@user_app.command("list")
def user_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every user, their role, scope and state."""
    from bigov.auth.service import list_users

    with open_workspace(db) as ws, ws.session() as s:
        rows = list_users(s)
    if as_json:
        print_json(rows)
        return
    # an email is how a user is named in every other command: never cut; scopes wrap
    table = fit_table(
        code_column("email", (r["email"] for r in rows)),
        code_column("role", (r["role"] for r in rows)),
        text_column("units", min_width=10),
        text_column("nodes", min_width=10),
        code_column("state", ("disabled",)),
    )
    for r in rows:
        state = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "active")
        table.add_row(
            Text(r["email"]),
            r["role"],
            Text(", ".join(r["units"])),
            Text(", ".join(r["nodes"])),
            state,
        )
    console.print(table)


@user_app.command("disable")
def user_disable(email: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Disable a user: their sessions and tokens stop working at once."""
    from bigov.auth.service import disable_user

    with open_workspace(db) as ws, ws.session() as s:
        disable_user(s, email)
    if as_json:
        print_json({"disabled": email})
        return
    console.print(Text(f"disabled {email}"))


@token_app.command("create")
def token_create(
    email: str,
    name: Annotated[str, typer.Option(help="A label to tell tokens apart.")] = "api",
    expires: Annotated[int | None, typer.Option(help="Days until it expires.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from bigov.auth.service import create_token

    with open_workspace(db) as ws, ws.session() as s:
        secret = create_token(s, email, name=name, expires_days=expires)
    if as_json:
        print_json({"email": email, "name": name, "token": secret})
        return
    # plain write: the token must be copyable, with no markup or wrapping
    sys.stdout.write(secret + "\n")


@token_app.command("revoke")
def token_revoke(
    email: str,
    name: Annotated[str | None, typer.Option(help="Only the tokens with this label.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a user's tokens (all of them, or those named --name)."""
    from bigov.auth.service import revoke_tokens

    with open_workspace(db) as ws, ws.session() as s:
        count = revoke_tokens(s, email, name=name)
    if as_json:
        print_json({"email": email, "revoked": count})
        return
    console.print(Text(f"revoked {count} token(s) of {email}"))


def audit(
    entity: Annotated[str | None, typer.Option(help="Only events on this code.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Writes made through the server: who, when, from where, which entity, what changed."""
    from bigov.auth.service import audit_rows

    with open_workspace(db) as ws, ws.session() as s:
        rows = audit_rows(s, entity=entity, limit=limit)
    if as_json:
        from bigov.auth.schemas import audit_events

        # the same schema GET /api/v1/audit answers with
        print_json(audit_events(rows))
        return
    if not rows:
        console.print(
            Text("No writes made through the server" + (f" to {entity}." if entity else "."))
        )
        return
    table = fit_table(
        code_column("at", (r["at"] for r in rows)),
        code_column("user", (r["user"] for r in rows)),
        text_column("from", min_width=9),
        code_column("action", (r["action"] for r in rows)),
        text_column("entity", min_width=14),
        text_column("changed", min_width=12),
    )
    for r in rows:
        before, after = r["before"] or {}, r["after"] or {}
        changed = sorted(k for k in after if before.get(k) != after.get(k) and k != "updated_at")
        table.add_row(
            r["at"],
            Text(r["user"]),
            Text(r["client_ip"] or ""),
            r["action"],
            Text(f"{r['entity_kind']} {r['entity_code']}"),
            Text(", ".join(changed)),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Mount the server's commands on the root app."""
    app.command(name="serve")(serve)
    app.command(name="audit")(audit)
    app.add_typer(user_app, name="user", help="Users of the server: add, list, disable.")
    app.add_typer(token_app, name="token", help="API tokens: create (shown once), revoke.")
