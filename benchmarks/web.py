"""The web pages on a demo workspace: time to a usable page (the server-rendered HTML, complete,
over loopback: the page is usable when it arrives; its CSS and htmx are static and cached) for
each role's main pages, against a static file served by the same server in the same run.

Each page is fetched ``--rounds`` times after one warm-up; p95 over all fetches of all pages.
Last line:

    web: pages=N p95_ms=A static_ratio=B queries_max=C

    python benchmarks/web.py                 # --scale large (the issue's measure)
    python benchmarks/web.py --scale small   # quick
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from bigov.auth.service import add_user
from bigov.demo.cast import cast
from bigov.server import ServerSettings, create_app
from bigov.workspace import Workspace

PASSWORD = "benchmark password"
BOARD = "GOV-BOARD"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare(ws: Workspace, scale: str) -> dict[str, str]:
    """Demo data, the main board's cycle, one user per role; returns codes the pages need."""
    from bigov.demo import generate

    report = generate(ws, scale=scale, seed=42)
    # the main board sits quarterly: its cycle is the quarter's last month
    month = report.as_of.month - (report.as_of.month - 3) % 3
    period = f"{report.as_of.year:04d}-{month:02d}"
    ws.governance.run_cycle(BOARD, period, formats=())
    with ws.session() as s:
        programme, benefit = cast(s)
        assert programme is not None and benefit is not None
        from bigov.org.models import Person

        sro = s.get(Person, programme.owner_id)
        assert sro is not None and sro.email
        for email, role, nodes in (
            ("board@bench.example", "board_member", [BOARD]),
            ("pmo@bench.example", "pmo", []),
            (sro.email, "manager", []),
        ):
            add_user(s, email, role, password=PASSWORD, nodes=nodes)
    return {
        "period": period,
        "programme": programme.code,
        "benefit": benefit.code,
        "manager": sro.email.lower(),
    }


def sign_in(client: httpx.Client, email: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert r.status_code == 303, r.text[:200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["small", "large"], default="large")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        started = time.perf_counter()
        codes = prepare(ws, args.scale)
        took = time.perf_counter() - started
        print(f"prepared {args.scale} demo in {took:.0f} s", file=sys.stderr)
        app = create_app(ServerSettings(secret_key="bench", count_queries=True), ws)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        period, prog = codes["period"], codes["programme"]
        doc = ws.governance.cycle_document(f"{BOARD}/{period}")
        exc = next((e["code"] for e in doc["exceptions"] if e["role"] == "owned"), None)
        pages = {
            "board@bench.example": [
                "/",
                "/boards",
                f"/pack/{BOARD}/{period}",
                f"/pack/{BOARD}/{period}/figure/cost.forecast_outturn",
                *([f"/pack/{BOARD}/{period}/exception/{exc}"] if exc else []),
                f"/items/{prog}",
            ],
            codes["manager"]: ["/", f"/items/{prog}/return", "/items?mine=true"],
            "pmo@bench.example": [
                "/",
                "/benefits",
                f"/benefits/{codes['benefit']}",
                "/pmo/cycles",
                "/pmo/batches",
                "/portfolio",
            ],
        }
        page_ms: list[float] = []
        static_ms: list[float] = []
        queries_max = 0
        per_page: dict[str, float] = {}
        try:
            for email, paths in pages.items():
                with httpx.Client(base_url=base, timeout=300) as client:
                    sign_in(client, email)
                    for path in paths:
                        client.get(path)  # warm-up (per-process caches, imports)
                        times = []
                        for _ in range(args.rounds):
                            t0 = time.perf_counter()
                            r = client.get(path)
                            times.append((time.perf_counter() - t0) * 1000)
                            assert r.status_code == 200, (path, r.status_code)
                            queries_max = max(queries_max, int(r.headers["x-query-count"]))
                        page_ms += times
                        per_page[path] = statistics.median(times)
                        for _ in range(args.rounds):
                            t0 = time.perf_counter()
                            r = client.get("/static/app.css")
                            static_ms.append((time.perf_counter() - t0) * 1000)
                            assert r.status_code == 200
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            ws.close()
    for path, ms in sorted(per_page.items(), key=lambda x: -x[1]):
        print(f"  {ms:9.1f} ms median  {path}", file=sys.stderr)
    p95 = _percentile(page_ms, 0.95)
    static = _percentile(static_ms, 0.95)
    n = sum(len(p) for p in pages.values())
    print(
        f"web: pages={n} p95_ms={p95:.1f} static_ratio={p95 / static:.1f} queries_max={queries_max}"
    )


if __name__ == "__main__":
    main()
