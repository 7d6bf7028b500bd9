"""Benchmark: a month of governance cycles as background jobs on PostgreSQL, one worker process
then two, in the same run; and the seconds a PDF pack takes, before and after the pack changes.

The demo (``--scale``, default ``large``) is generated twice with one seed into two schemas of
the PostgreSQL database at ``--url`` (default ``$BIGOV_BENCH_POSTGRES_URL`` or
``$BIGOV_TEST_POSTGRES_URL``), so both runs start from the same data. For each, ``bigov worker
--concurrency N`` is started and waited for, ``cycle.month`` is submitted with HTML packs, and
the time from submission until the month's last node job has finished is taken. Then
``--pdf-packs`` cycle documents of the first schema are printed to PDF both ways, alternating:

* before: the old path, a template compiled for each pack, the HTML rendered again for the PDF
  and printed as it is;
* after: the HTML pack's own bytes printed (the template compiled once per process), its
  stylesheet's custom properties resolved before WeasyPrint sees them.

PDF times are CPU seconds of this process (``time.process_time``): printing is single-threaded,
so on a quiet machine they equal wall seconds, and on a shared one they are not inflated by the
neighbours' load as wall time is.

    python benchmarks/jobs.py [--scale large|small] [--period 2026-09] [--pdf-packs 6]

Last line: ``jobs: nodes=N one_worker_s=A two_workers_s=B speedup=R pdf_s_per_pack=P``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bigov.demo import generate
from bigov.workspace import Workspace

SRC = Path(__file__).resolve().parents[1] / "src"


def _worker(url: str, concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bigov.cli", "worker", "--no-schedule"]
    args += ["--concurrency", str(concurrency), "--db", url]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with log.open("ab") as err:
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env)


def _month(ws: Workspace, workers: int, period: str, out: Path, log: Path) -> tuple[float, int]:
    """Seconds from submitting the month to its end, with ``workers`` worker processes."""
    proc = _worker(ws.describe(hide_password=False), workers, log)
    try:
        for _ in range(1200):
            with ws.session() as s:
                if s.scalar(text("SELECT count(*) FROM procrastinate_workers")) >= workers:
                    break
            time.sleep(0.1)
        started = time.perf_counter()
        job = ws.jobs.submit(
            "cycle.month",
            {"period": period, "out_dir": str(out), "formats": ["html"]},
            started_by="benchmark",
        )
        while True:
            shown = ws.jobs.show(job.id)
            if shown.state in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    if shown.state != "succeeded":
        raise SystemExit(f"the month ended {shown.state}: {shown.error}; see {log}")
    return seconds, int((shown.result or {}).get("nodes", 0))


def _pdf_times(ws: Workspace, period: str, packs: int) -> tuple[float, float]:
    """Median seconds per PDF (before, after) over ``packs`` cycles of the month, spread over
    small and large boards."""
    from bigov.reports.html import _build_env, pack_context, render_html
    from bigov.reports.pdf import _url_fetcher, _weasyprint_html, html_to_pdf

    def old_print(html: str) -> bytes:
        pdf: bytes = _weasyprint_html()(
            string=html, base_url=None, url_fetcher=_url_fetcher()
        ).write_pdf()
        return pdf

    cycles = sorted(
        ws.governance.list_cycles(period=period), key=lambda c: (c.get("items") or 0, c["code"])
    )
    step = max(len(cycles) // max(packs, 1), 1)
    docs = [ws.governance.cycle_document(c["code"]) for c in cycles[::step][:packs]]
    html_to_pdf(render_html(docs[0]).decode())  # WeasyPrint's own start-up is not a pack's
    before: list[float] = []
    after: list[float] = []
    for doc in docs:
        html = render_html(doc)  # the HTML pack, written anyway
        t0 = time.process_time()
        env = _build_env()
        again = env.get_template("pack.html.j2").render(**pack_context(doc))
        old_print(again)
        t1 = time.process_time()
        html_to_pdf(html.decode())
        t2 = time.process_time()
        before.append(t1 - t0)
        after.append(t2 - t1)
    return statistics.median(before), statistics.median(after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=["small", "large"])
    parser.add_argument("--period", default="2026-09")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pdf-packs", type=int, default=6)
    parser.add_argument(
        "--url",
        default=os.environ.get("BIGOV_BENCH_POSTGRES_URL")
        or os.environ.get("BIGOV_TEST_POSTGRES_URL"),
    )
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("give --url or set BIGOV_BENCH_POSTGRES_URL (a PostgreSQL database)")
    schemas = [f"bench_{secrets.token_hex(4)}" for _ in range(2)]
    spaces: list[Workspace] = []
    try:
        for schema in schemas:
            ws = Workspace.open(args.url, schema=schema)
            spaces.append(ws)
            t0 = time.perf_counter()
            generate(ws, scale=args.scale, seed=args.seed)
            print(f"demo {args.scale} in {schema}: {time.perf_counter() - t0:.1f} s", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            one, nodes = _month(spaces[0], 1, args.period, folder / "one", folder / "w1.log")
            print(f"one worker: {nodes} nodes in {one:.1f} s", flush=True)
            two, nodes2 = _month(spaces[1], 2, args.period, folder / "two", folder / "w2.log")
            print(f"two workers: {nodes2} nodes in {two:.1f} s", flush=True)
        before, after = _pdf_times(spaces[0], args.period, args.pdf_packs)
        print(
            f"pdf per pack (CPU s, median of {args.pdf_packs}): before {before:.2f}, "
            f"after {after:.2f} (after/before {after / before:.2f})",
            flush=True,
        )
        print(
            f"jobs: nodes={nodes} one_worker_s={one:.1f} two_workers_s={two:.1f} "
            f"speedup={one / two:.2f} pdf_s_per_pack={after:.2f}"
        )
    finally:
        for ws in spaces:
            with ws.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{ws.schema}" CASCADE'))
            ws.close()


if __name__ == "__main__":
    main()
