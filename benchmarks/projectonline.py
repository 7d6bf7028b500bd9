"""Reading and planning a Project Online export with a large AssignmentTimephasedDataSet, against
a bare ``json.loads`` of the same page.

    python benchmarks/projectonline.py [--rows 100000] [--repeat 3]

Writes 100 projects and ``--rows`` daily timephased rows (JSON light, as the feed pages them)
to a temporary folder, then ``--repeat`` times reads and types the export and plans the migration
(no database). Prints the medians; the last line is machine-readable:

    projectonline: rows=100000 rows_per_s=... read_plan/json_loads=...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

from bigov.ingest.projectonline.config import MigrationConfig
from bigov.ingest.projectonline.source import read_source
from bigov.ingest.projectonline.transform import plan_migration


def generate(folder: Path, rows: int) -> Path:
    projects = [
        {
            "ProjectId": f"00000000-0000-4000-8000-{i:012d}",
            "ProjectName": f"Project {i}",
            "EnterpriseProjectTypeName": "Enterprise Project",
            "ProjectStartDate": "2027-01-04T08:00:00",
            "ProjectFinishDate": "2027-12-31T17:00:00",
            "ProjectCost": "1000.00",
            "ProjectWork": "0",
        }
        for i in range(100)
    ]
    (folder / "Projects.json").write_text(json.dumps({"value": projects}), encoding="utf-8")
    day0 = dt.date(2027, 1, 4)
    timephased = [
        {
            "ProjectId": projects[i % 100]["ProjectId"],
            "AssignmentId": f"10000000-0000-4000-8000-{i // 250:012d}",
            "TimeByDay": f"{day0 + dt.timedelta(days=i % 250)}T00:00:00",
            "ResourceName": f"Role {i % 7}",
            "AssignmentWork": "8.000000",
            "AssignmentActualWork": "0.000000",
        }
        for i in range(rows)
    ]
    page = folder / "AssignmentTimephasedDataSet.json"
    page.write_text(json.dumps({"value": timephased}), encoding="utf-8")
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        page = generate(folder, args.rows)
        ours: list[float] = []
        baseline: list[float] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            source = read_source(folder)
            plan = plan_migration(source.sets, MigrationConfig())
            ours.append(time.perf_counter() - start)
            assert plan.counts["AssignmentTimephasedDataSet"].imported == args.rows
            start = time.perf_counter()
            json.loads(page.read_text(encoding="utf-8"))
            baseline.append(time.perf_counter() - start)
    mine, base = statistics.median(ours), statistics.median(baseline)
    print(f"read + plan: {mine:.2f} s (median of {args.repeat}); json.loads: {base:.2f} s")
    print(
        f"projectonline: rows={args.rows} rows_per_s={args.rows / mine:,.0f} "
        f"read_plan/json_loads={mine / base:.1f}"
    )


if __name__ == "__main__":
    main()
