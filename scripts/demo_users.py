"""One user per role on the demo database, each with a fresh password printed at the end (and an
API token for the admin): ``python scripts/demo_users.py sqlite:///demo-output/bigov.db``.

Scopes come from the demo itself: the manager is the SRO of the first programme, the benefit
owner owns the first benefit, the board member sits on the main board (the node nothing is above)
and on the first programme's board, the viewer
is scoped to that programme's business unit. Users that exist already are kept."""

from __future__ import annotations

import secrets
import sys

from sqlalchemy import select

from bigov.auth.models import AppUser
from bigov.auth.service import add_user, create_token
from bigov.demo.cast import cast
from bigov.governance.models import GovernanceNode
from bigov.org.models import OrgUnit, Person
from bigov.workspace import Workspace


def main(url: str) -> None:
    with Workspace.open(url) as ws, ws.session() as s:
        programme, benefit = cast(s)
        if programme is None or benefit is None:
            raise SystemExit("run `make demo` first: no programme or benefit in this workspace")
        sro = s.get(Person, programme.owner_id) if programme.owner_id else None
        owner = s.get(Person, benefit.owner_id)
        node = (
            s.get(GovernanceNode, programme.governing_node_id)
            if (programme.governing_node_id)
            else None
        )
        unit = s.get(OrgUnit, programme.org_unit_id) if programme.org_unit_id else None
        main_board = s.scalars(
            select(GovernanceNode)
            .where(GovernanceNode.parent_id.is_(None))
            .order_by(GovernanceNode.code)
        ).first()
        boards = [n.code for n in (main_board, node) if n is not None]
        users = [
            ("admin@demo.example", "admin", [], []),
            ("pmo@demo.example", "pmo", [], []),
            ("board@demo.example", "board_member", [], list(dict.fromkeys(boards))),
            ((sro.email if sro and sro.email else "manager@demo.example"), "manager", [], []),
            (
                (owner.email if owner and owner.email else "benefits@demo.example"),
                "benefit_owner",
                [],
                [],
            ),
            ("viewer@demo.example", "viewer", [unit.code] if unit else [], []),
        ]
        rows = []
        for email, role, units, nodes in users:
            if s.scalar(select(AppUser.id).where(AppUser.email == email.lower())) is not None:
                rows.append((email, role, "(exists; password unchanged)"))
                continue
            password = secrets.token_urlsafe(12)
            add_user(s, email, role, password=password, units=units, nodes=nodes)
            rows.append((email, role, password))
        s.flush()
        token = create_token(s, "admin@demo.example", name="demo")
    print("Demo users (sign in at http://127.0.0.1:8000/login):")
    for email, role, password in rows:
        print(f"  {role:<14} {email:<48} {password}")
    print(f"Admin API token (shown once): {token}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///demo-output/bigov.db")
