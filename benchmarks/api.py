"""The REST API under load: N server processes, concurrent loopback clients, a fixed mix of
list, detail, figure and analysis requests, against a demo workspace.

Runs ``/healthz`` (no database) with the same clients first, so the result is a ratio measured
in the same run on the same machine. Loopback only, bounded in time. Last line:

    api: p50_ms=A p95_ms=B rps=C static_ratio=D queries_per_request_max=E

    python benchmarks/api.py                                   # SQLite, small, 1 process
    python benchmarks/api.py --db-url postgresql+psycopg://... --scale large --workers 4
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import inspect, select, text

from bigov.auth.service import add_user, create_token
from bigov.work.models import WorkItem, WorkKind
from bigov.workspace import Workspace

# the fixed mix, by weight: what a dashboard and an integration ask most
MIX = (("list", 4), ("detail", 3), ("figures", 2), ("analysis", 1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare(ws: Workspace, scale: str) -> tuple[str, list[str], str, str]:
    """Demo data, one governance cycle, an admin token; returns (token, item codes, cycle code,
    programme code for roll-ups)."""
    from bigov.demo import generate

    report = generate(ws, scale=scale, seed=42)
    period = f"{report.as_of.year:04d}-{report.as_of.month:02d}"
    if ws.backend == "postgresql":
        # this workspace's tables only: a database-wide ANALYZE contends with whatever else
        # the server is running (other schemas' DDL), and can deadlock with it
        with ws.engine.begin() as conn:
            for table in inspect(conn).get_table_names():
                conn.execute(text(f'ANALYZE "{table}"'))
    ws.governance.run_cycle("GOV-BOARD", period)
    with ws.session() as s:
        add_user(s, "bench@example.org", "admin", password=secrets.token_urlsafe(16))
        s.flush()
        token = create_token(s, "bench@example.org", name="bench")
        codes = list(s.scalars(select(WorkItem.code).order_by(WorkItem.code).limit(500)))
        programme = s.scalar(
            select(WorkItem.code).where(WorkItem.kind == WorkKind.PROGRAMME).limit(1)
        )
    assert programme is not None
    return token, codes, f"GOV-BOARD/{period}", programme


def _one(port: int, token: str, path: str) -> float:
    """One request on a fresh connection; its latency in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    took = (time.perf_counter() - started) * 1000
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status}")
    return took


def run_clients(
    port: int,
    token: str,
    paths: list[str],
    clients: int,
    seconds: float,
    by_path: dict[str, list[float]] | None = None,
) -> tuple[list[float], int, int]:
    """Each client cycles through ``paths`` (offset by its number) on one keep-alive
    connection until time is up. Returns (latencies in ms, requests, max X-Query-Count);
    ``by_path`` (when given) collects each path's latencies too."""
    latencies: list[float] = []
    max_queries = [0]
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}"}
        mine: list[float] = []
        mine_by_path: list[tuple[str, float]] = []
        worst = 0
        for path in itertools.islice(itertools.cycle(paths), n, None):
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            mine_by_path.append((path, mine[-1]))
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
            worst = max(worst, int(response.getheader("x-query-count") or 0))
        conn.close()
        with lock:
            latencies.extend(mine)
            max_queries[0] = max(max_queries[0], worst)
            if by_path is not None:
                for p, ms in mine_by_path:
                    by_path.setdefault(p, []).append(ms)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    return latencies, len(latencies), max_queries[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument("--workers", type=int, help="server processes (default 4 on PostgreSQL)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the mix phase")
    parser.add_argument(
        "--mix",
        default=",".join(f"{k}={w}" for k, w in MIX),
        help="weights of the request kinds, e.g. list=4,detail=3,figures=2,analysis=1",
    )
    args = parser.parse_args()
    workers = args.workers or (4 if args.db_url else 1)
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if args.db_url:
            schema = f"bench_{secrets.token_hex(4)}"
            ws = Workspace.open(args.db_url, schema=schema)
        else:
            ws = Workspace.open(f"sqlite:///{Path(tmp) / 'api.db'}")
        proc: subprocess.Popen[str] | None = None
        try:
            started = time.perf_counter()
            token, codes, cycle, programme = prepare(ws, args.scale)
            print(
                f"prepared {args.scale} demo with {len(codes)}+ items in "
                f"{time.perf_counter() - started:.0f} s on {ws.backend}"
            )
            port = _free_port()
            env = {**os.environ, "BIGOV_SERVER_COUNT_QUERIES": "1"}
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bigov.cli",
                    "serve",
                    "--db",
                    ws.describe(hide_password=False),
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            # a loaded machine can take a while to start four workers: wait up to two minutes
            up_by = time.perf_counter() + 120
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    if time.perf_counter() > up_by or proc.poll() is not None:
                        raise SystemExit("server did not start") from None
                    time.sleep(0.2)
            # warm every worker's connection pool and caches before measuring
            run_clients(port, token, ["/api/v1/work-items?limit=5"], args.clients, 2.0)
            static, _, _ = run_clients(port, token, ["/healthz"], args.clients, args.seconds / 3)
            paths: list[str] = []
            kind_of: dict[str, str] = {}
            weights = dict(MIX)
            for part in args.mix.split(","):
                name, _, value = part.partition("=")
                if name not in weights or not value.isdigit():
                    raise SystemExit(f"--mix: {part!r} is not KIND=WEIGHT with a known kind")
                weights[name] = int(value)
            for kind, weight in weights.items():
                for i in range(weight):
                    code = codes[(i * 37) % len(codes)]
                    path = {
                        "list": f"/api/v1/work-items?limit=50&sort={('code', '-name')[i % 2]}",
                        "detail": f"/api/v1/work-items/{code}",
                        "figures": f"/api/v1/cycles/{cycle}/figures",
                        "analysis": f"/api/v1/analysis/rollup?root={programme}",
                    }[kind]
                    paths.append(path)
                    kind_of[path] = kind
            # one pass through the mix first: what the first request of each kind costs (a
            # roll-up computed for this data version, a cycle's figures read) is reported as
            # cold_ms; the measured mix is then the steady state, as served between writes
            cold: dict[str, float] = {}
            for path in dict.fromkeys(paths):
                cold[kind_of[path]] = max(cold.get(kind_of[path], 0.0), _one(port, token, path))
            run_clients(port, token, paths, args.clients, 2.0)
            t0 = time.perf_counter()
            per_path: dict[str, list[float]] = {}
            mixed, count, queries = run_clients(
                port, token, paths, args.clients, args.seconds, per_path
            )
            elapsed = time.perf_counter() - t0
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
            if schema:
                with ws.engine.begin() as conn2:
                    conn2.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            ws.close()
    p50, p95 = statistics.median(mixed), _percentile(mixed, 0.95)
    static_p95 = _percentile(static, 0.95)
    print(
        json.dumps(
            {
                "workers": workers,
                "clients": args.clients,
                "requests": count,
                "healthz_p95_ms": round(static_p95, 2),
                "scale": args.scale,
                "cold_ms_by_kind": {k: round(v, 1) for k, v in sorted(cold.items())},
                # where the time goes: p95 of each kind of request in the mix
                "p95_ms_by_kind": {
                    kind: round(
                        _percentile(
                            [ms for p, v in per_path.items() if kind_of[p] == kind for ms in v],
                            0.95,
                        ),
                        1,
                    )
                    for kind in sorted(set(kind_of.values()))
                },
            }
        )
    )
    print(
        f"api: p50_ms={p50:.1f} p95_ms={p95:.1f} rps={count / elapsed:.0f} "
        f"static_ratio={p95 / static_p95:.1f} queries_per_request_max={queries}"
    )


if __name__ == "__main__":
    main()
