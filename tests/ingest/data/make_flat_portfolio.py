"""Write ``flat_portfolio.csv``: a flat projects extract shaped like the US federal IT Dashboard
"Projects" download (one row per project, the agency repeated on every row, US dates, costs in
$ millions, planned duration in days). The rows are synthetic; the layout is the public one.

Run ``python tests/ingest/data/make_flat_portfolio.py`` to regenerate (deterministic).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HEADERS = [
    "Agency Code",
    "Agency Name",
    "Unique Investment Identifier",
    "Investment Title",
    "Project ID",
    "Project Name",
    "Start Date",
    "Planned Duration (days)",
    "Lifecycle Cost ($ M)",
    "Projected/Actual Cost ($ M)",
    "Updated Date",
]
AGENCIES = [
    ("005", "Department of Agriculture"),
    ("009", "Department of Health and Human Services"),
    ("021", "Department of Transportation"),
    ("024", "Department of Homeland Security"),
]
WORDS = ["Grants", "Claims", "Identity", "Data", "Payments", "Records", "Case", "Cloud", "Portal"]


def rows() -> list[list[str]]:
    rng = random.Random(17)
    out: list[list[str]] = []
    for code, name in AGENCIES:
        for inv in range(1, 4):
            uii = f"{code}-{rng.randint(100000000, 999999999):09d}"
            title = f"{rng.choice(WORDS)} Modernization {inv}"
            for project in range(1, 4):
                start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 500))
                days = rng.choice([90, 180, 270, 365, 540])
                cost = rng.randint(5, 400) / 10
                updated = dt.date(2025, rng.randint(1, 12), rng.randint(1, 28))
                out.append(
                    [
                        code,
                        name,
                        uii,
                        title,
                        f"{inv}{project:02d}",
                        f"{title} — release {project}",
                        f"{start:%m/%d/%Y}",
                        str(days),
                        f"{cost:.1f}",
                        f"{cost * rng.uniform(0.8, 1.3):.2f}",
                        f"{updated:%m/%d/%Y}",
                    ]
                )
    return out


def main() -> None:
    path = Path(__file__).with_name("flat_portfolio.csv")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows())


if __name__ == "__main__":
    main()
