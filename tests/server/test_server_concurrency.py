"""Two people editing one item at once: one wins, the other gets 412 and the current version;
no update is lost. Real threads against the real app and database (PostgreSQL row locks; the
SQLite server serialises its writes)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bigov.auth.models import AuditEvent
from tests.server.conftest import Org

ITEMS = "/api/v1/work-items"


def _edit(
    org: Org, who: str, etag: str, barrier: threading.Barrier, results: dict[str, Any]
) -> None:
    # no `with`: the app's lifespan (and its state) is the one the fixture started
    client = TestClient(org.client.app)
    body = {"name": f"edited by {who}", "kind": "programme", "org_unit": "U-B", "owner": "P-MGR"}
    barrier.wait()
    results[who] = client.put(
        f"{ITEMS}/PG-B", json=body, headers={**org.auth(who), "If-Match": etag}
    )


def test_concurrent_edits_one_wins_the_other_gets_412(org: Org) -> None:
    for _round in range(5):
        etag = org.client.get(f"{ITEMS}/PG-B", headers=org.auth("admin")).headers["etag"]
        barrier = threading.Barrier(2)
        results: dict[str, Any] = {}
        threads = [
            threading.Thread(target=_edit, args=(org, w, etag, barrier, results))
            for w in ("admin", "pmo")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 412], codes
        winner = next(w for w, r in results.items() if r.status_code == 200)
        loser = next(w for w, r in results.items() if r.status_code == 412)
        assert results[loser].json()["current"]["name"] == f"edited by {winner}"
        stored = org.client.get(f"{ITEMS}/PG-B", headers=org.auth("admin")).json()
        assert stored["name"] == f"edited by {winner}"
    with org.ws.session() as s:
        updates = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_code == "PG-B")
        )
    assert updates == 5  # one audit row per successful write, none for the refused ones
