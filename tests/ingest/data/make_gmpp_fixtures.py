# ruff: noqa: E501 - fixture data: real published headers and CSV rows read best unbroken
"""Writes the GMPP fixtures: synthetic rows under the real published headers of three years.

Run from the repository root: python tests/ingest/data/make_gmpp_fixtures.py
The rows are invented (names, money, ratings); the headers, layouts and quirks (transposed
layout and Windows-1252 in 2019, a title row, line breaks and merged header cells in the 2023
workbook, SRO columns in 2024, "Exempt" cells, ranges) follow the real files.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

HERE = Path(__file__).parent
DEPTS = [("DFT", "DfT"), ("MOD", "MOD"), ("HO", "Home Office"), ("DWP", "DWP")]
CATS = [
    "Infrastructure and Construction",
    "Government Transformation and Service Delivery",
    "ICT",
    "Military Capability",
]
WORDS = [
    "Rail",
    "Digital",
    "Border",
    "Estates",
    "Fleet",
    "Payments",
    "Network",
    "Data",
    "Housing",
    "Energy",
    "Prison",
    "Road",
    "Health",
    "Shipbuilding",
    "Skills",
    "Courts",
]
R5 = ["Green", "Amber/Green", "Amber", "Amber/Red", "Red"]
R3 = ["Green", "Amber", "Red"]


def projects() -> list[dict[str, object]]:
    rnd = random.Random(7)
    out = []
    for i in range(18):
        dept, dept_name = DEPTS[i % len(DEPTS)]
        out.append(
            {
                "id": f"{dept}_{40 + i:04d}_{1516 + (i % 5) * 101}-Q{1 + i % 4}",
                "dept": dept,
                "dept_name": dept_name,
                "name": f"{WORDS[i % len(WORDS)]} {['Programme', 'Project', 'Transformation'][i % 3]} {i + 1}",
                "cat": CATS[i % 4],
                "start": f"{1 + i % 27:02d}/{1 + i % 12:02d}/{2012 + i % 6}",
                "end": f"31/03/{2026 + i % 9}",
                "wlc": round(rnd.uniform(200, 9000), 2),
                "fy": round(rnd.uniform(10, 400), 2),
                "sro": f"{['Alex', 'Sam', 'Jo', 'Chris', 'Pat'][i % 5]} {['Smith', 'Jones', 'Patel', 'Brown'][i % 4]}-{i}",
            }
        )
    return out


H2019 = [
    "GMPP ID Number",
    "Project Name",
    "Department",
    "Category",
    "Description / Aims",
    "IPA Delivery Confidence Assessment (A Delivery Confidence Assessment of the project at a fixed point in time, using a five-point scale, Red – Amber/Red – Amber – Amber/Green – Green; definitions in the IPA Annual Report on Major Projects)",
    "Departmental commentary on actions planned or taken on the IPA RAG rating.",
    "Project - Start Date (Latest approved start date)",
    "Project - End Date (Latest Approved End Date)",
    "Departmental narrative on schedule, including any deviation from planned schedule (if necessary)",
    "Financial Year Baseline (£m) (including Non-Government costs)",
    "Financial Year Forecast (£m) (including Non-Government costs)",
    "Financial Year Variance (%)",
    "Departmental narrative on budget/forecast variance for 2019/20 (if variance is more than 5%)",
    "Total Baseline Whole Life Costs (£m) (including Non-Government costs)",
    "Departmental Narrative on Budgeted Whole Life Costs",
    "Total Baseline Benefits (£m)",
    "Departmental Narrative on Budgeted Benefits",
]


def row_2019(p: dict[str, object], i: int) -> list[object]:
    dca = R5[i % 5] if i % 7 else "Exempt"
    wlc: object = (
        p["wlc"] if i % 6 else "Exempt under Section 43 of the Freedom of Information Act 2000"
    )
    fy = p["fy"]
    fc = round(float(fy) * (1 + (i % 5 - 2) / 20), 2)  # type: ignore[arg-type]
    return [
        p["id"],
        p["name"],
        p["dept"],
        p["cat"],
        f"Deliver the {p['name']} – café upgrade",
        dca,
        "Actions are in hand.",
        p["start"],
        p["end"],
        "On track.",
        fy,
        fc,
        f"{round((fc / float(fy) - 1) * 100, 1)}%",  # type: ignore[arg-type]
        "",
        wlc,
        "",
        round(float(p["wlc"]) * 1.4, 1),
        "",
    ]  # type: ignore[arg-type]


H2023 = [
    "GMPP ID Number",
    "Project Name",
    "Department",
    "Annual Report Category",
    "Description / Aims",
    "IPA Delivery Confidence Assessment\n(A Delivery Confidence Assessment of the project at a fixed point in time, using a three-point scale, Red – Amber – Green)",
    "Departmental commentary on actions planned or taken on the IPA RAG rating.",
    "Project - Start Date\n(Latest Approved Start Date)",
    "Project - End Date\n(Latest Approved End Date)",
    "Departmental narrative on schedule, including any deviation from planned schedule (if necessary)",
    "Baseline",
    "Forecast",  # under a merged "Financial Year (£m) (including Non-Government Costs)"
    "Financial Year Variance (%)",
    "Departmental narrative on budget/forecast variance for 2022/23 (if variance is more than 5%)",
    "TOTAL Baseline Whole Life Costs (£m)\n(including Non-Government Costs)",
    "Departmental Narrative on Budgeted Whole Life Costs",
    "TOTAL Baseline Benefits (£m)",
    "Departmental Narrative on Budgeted Benefits",
]


def write_2023(path: Path, ps: list[dict[str, object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "GMPP data March 2023"
    ws.append(["Government Major Projects Portfolio data, March 2023"])  # title row
    ws.append([])
    top = [h if h not in ("Baseline", "Forecast") else None for h in H2023]
    top[10] = "Financial Year (£m)\n(including Non-Government Costs)"
    ws.append(top)
    ws.append([None] * 10 + ["Baseline", "Forecast"] + [None] * (len(H2023) - 12))
    for col in range(1, len(H2023) + 1):  # every other header merged down over both rows
        if col not in (11, 12):
            ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    ws.merge_cells(start_row=3, start_column=11, end_row=3, end_column=12)
    import datetime as dt

    for i, p in enumerate(ps[:16]):
        dca = R3[(i + 1) % 3] if i % 8 else "Reset"
        wlc: object = (
            p["wlc"] if i % 5 else f"{int(float(p['wlc']))} - {int(float(p['wlc'])) + 500}"
        )  # type: ignore[arg-type]
        d, m, y = (int(x) for x in str(p["start"]).split("/"))
        fy = p["fy"]
        ws.append(
            [
                p["id"],
                p["name"],
                p["dept"],
                p["cat"],
                f"Deliver {p['name']}",
                dca,
                "Commentary.",
                dt.datetime(y, m, d),
                dt.datetime(2030 + i % 5, 3, 31),
                "",
                fy,
                str(fy) if i % 4 == 0 else round(float(fy) * 1.1, 2),  # type: ignore[arg-type]
                "10%",
                "",
                wlc,
                "",
                "N/A" if i % 3 == 0 else 1000 + i,
                "",
            ]
        )
    wb.save(path)


H2024 = [
    "GMPP ID Number",
    "Project Name",
    "Department",
    "Annual Report Category",
    "Description / Aims",
    "IPA Delivery Confidence Assessment",
    "SRO Delivery Confidence Assessment",
    "Departmental commentary on actions planned or taken on the IPA RAG rating.",
    "Project - Start Date (Latest Approved Start Date)",
    "Project - End Date (Latest Approved End Date)",
    "Departmental narrative on schedule, including any deviation from planned schedule (if necessary)",
    "Financial Year Baseline (£m) (including Non-Government Costs)",
    "Financial Year Forecast (£m) (including Non-Government Costs)",
    "Financial Year Variance (%)",
    "Departmental narrative on budget/forecast variance for 2023/24 (if variance is more than 5%)",
    "TOTAL Baseline Whole Life Costs (£m) (including Non-Government Costs)",
    "Departmental Narrative on Budgeted Whole Life Costs",
    "TOTAL Baseline Benefits (£m)",
    "Departmental Narrative on Budgeted Benefits",
    "Senior Responsible Owner (SRO) Name",
]


def main() -> None:
    ps = projects()
    # 2019: transposed (one column per project), Windows-1252, as several departments published
    grid = [[h] for h in H2019]
    for i, p in enumerate(ps):
        for r, v in enumerate(row_2019(p, i)):
            grid[r].append(v)
    buf = io.StringIO()
    csv.writer(buf).writerows(grid)
    (HERE / "gmpp_september_2019.csv").write_bytes(buf.getvalue().encode("cp1252"))
    write_2023(HERE / "gmpp_march_2023.xlsx", ps)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(H2024)
    for i, p in enumerate(ps[:17]):
        fy = float(p["fy"])  # type: ignore[arg-type]
        w.writerow(
            [
                p["id"],
                p["name"],
                p["dept"],
                p["cat"],
                f"Deliver {p['name']}",
                R3[i % 3] if i % 9 else "Exempt",
                R3[(i + 2) % 3],
                "Commentary.",
                p["start"],
                p["end"],
                "",
                f"{fy:,.2f}",
                "Exempt" if i == 4 else f"{fy * 0.95:,.2f}",
                "-5%",
                "",
                f"{float(p['wlc']) * 1.05:,.1f}" if i % 4 else "N/A",  # type: ignore[arg-type]
                "",
                "1,234.5",
                "",
                p["sro"],
            ]
        )
    (HERE / "gmpp_2024.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))


if __name__ == "__main__":
    main()
