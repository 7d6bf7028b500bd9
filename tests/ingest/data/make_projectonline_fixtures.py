# ruff: noqa: E501 - fixture data reads best unbroken
"""Writes the Project Online fixtures: one invented PWA under the real ``ProjectData`` names.

Run from the repository root: python tests/ingest/data/make_projectonline_fixtures.py

Entity sets, property names and payload shapes follow the published ProjectData reporting schema
(``/_api/ProjectData``): ``Projects`` with enterprise custom fields, ``Tasks``, ``Assignments``,
``AssignmentTimephasedDataSet``, ``Resources``, ``ResourceTimephasedDataSet``,
``BusinessDrivers``, ``Prioritizations``, ``PrioritizationDrivers``, ``PortfolioAnalyses``,
``Issues`` and ``Risks``. The same data is written twice:

* ``projectonline/json/``: pages as the feed returns them — OData v3 JSON light (``value`` plus
  ``odata.nextLink``; Projects in two pages) and OData v2 verbose (``d.results`` plus ``__next``,
  ``/Date(ms)/`` dates and decimals as strings; Tasks in two pages);
* ``projectonline/csv/``: as Excel saves a Power Query table in a European locale — UTF-8 with a
  BOM, ``;`` between fields, decimal commas with ``.`` thousands, dates as ``dd/mm/yyyy hh:mm``
  text, TRUE/FALSE, and headers with blanks (``Project Name``) where a PWA view was exported.

What the data holds on purpose: custom fields (portfolio, programme, run/change, investment
category, department, two driver impact ratings, one field nobody maps), two prioritisations (the
later one is the one in force), a project with no schedule, a schedule with no project, a project
of an unknown enterprise project type and one with a negative cost (both rejected, with a risk
left behind), a task with an impossible date, and a schedule file that is not a schedule.
``schedules/`` holds MSPDI files written by hand (one carries the PWA project's GUID, one matches
by name, one matches nothing) and ``broken.mpp``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "projectonline"
SITE = "https://contoso.sharepoint.com/sites/pwa/_api/ProjectData"

P1 = "7e910f5b-95e2-e111-8d29-00155d35d32e"  # Harbour Wall Upgrade (schedule by GUID)
P2 = "1c2d3e4f-0a1b-4c5d-8e9f-102030405060"  # Payroll Replacement (schedule by name)
P3 = "2a3b4c5d-1111-4222-8333-444455556666"  # Service Desk Operations (no schedule)
P4 = "3b4c5d6e-2222-4333-8444-555566667777"  # Data Centre Exit (unknown type: rejected)
P5 = "4c5d6e7f-3333-4444-8555-666677778888"  # Website Refresh (negative cost: rejected)
P6 = "5d6e7f80-4444-4555-8666-777788889999"  # Customer Portal (proposal; summary task only)

R_ANA, R_RAJ = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"
R_BA, R_DEV, R_CIV = (
    "b0000000-0000-4000-8000-000000000001",
    "b0000000-0000-4000-8000-000000000002",
    "b0000000-0000-4000-8000-000000000003",
)
D_REV, D_COST, D_CX, D_REG = (
    "d0000000-0000-4000-8000-000000000001",
    "d0000000-0000-4000-8000-000000000002",
    "d0000000-0000-4000-8000-000000000003",
    "d0000000-0000-4000-8000-000000000004",
)
PRI_27, PRI_28 = "e0000000-0000-4000-8000-000000002027", "e0000000-0000-4000-8000-000000002028"


def d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


PROJECTS: list[dict[str, Any]] = [
    {
        "ProjectId": P1, "ProjectName": "Harbour Wall Upgrade", "ProjectOwnerName": "Ana Engineer",
        "EnterpriseProjectTypeName": "Enterprise Project",
        "ProjectStartDate": d("2027-01-04T08:00"), "ProjectFinishDate": d("2027-06-25T17:00"),
        "ProjectBaselineStartDate": d("2027-01-04T08:00"), "ProjectBaselineFinishDate": d("2027-05-28T17:00"),
        "ProjectActualStartDate": d("2027-01-04T08:00"), "ProjectActualFinishDate": None,
        "ProjectStatusDate": d("2027-02-26T17:00"),
        "ProjectCost": Decimal("1650000.00"), "ProjectActualCost": Decimal("400000.00"),
        "ProjectBaselineCost": Decimal("1500000.00"), "ProjectWork": Decimal("420.00"),
        "ProjectPercentCompleted": 30,
        "Portfolio": "Infrastructure", "Programme": "Coastal Resilience", "RunOrChange": "Change",
        "InvestmentCategory": "Transform the business", "ProjectDepartments": "Engineering",
        "StrategicFitImpact": "Strong", "CustomerImpact": "Low", "SponsorNotes": "=HYPERLINK(\"http://x\")",
    },
    {
        "ProjectId": P2, "ProjectName": "Payroll Replacement", "ProjectOwnerName": "Raj Patel",
        "EnterpriseProjectTypeName": "Enterprise Project",
        "ProjectStartDate": d("2027-02-01T08:00"), "ProjectFinishDate": d("2027-09-30T17:00"),
        "ProjectBaselineStartDate": d("2027-02-01T08:00"), "ProjectBaselineFinishDate": d("2027-09-30T17:00"),
        "ProjectActualStartDate": d("2027-02-01T08:00"), "ProjectActualFinishDate": None,
        "ProjectStatusDate": d("2027-03-31T17:00"),
        "ProjectCost": Decimal("812345.67"), "ProjectActualCost": Decimal("123456.78"),
        "ProjectBaselineCost": Decimal("800000.01"), "ProjectWork": Decimal("500.00"),
        "ProjectPercentCompleted": 15,
        "Portfolio": "Corporate Systems", "Programme": None, "RunOrChange": "Change",
        "InvestmentCategory": "Grow", "ProjectDepartments": "IT",
        "StrategicFitImpact": "Moderate", "CustomerImpact": "None", "SponsorNotes": "Board paper 2026/14",
    },
    {
        "ProjectId": P3, "ProjectName": "Service Desk Operations", "ProjectOwnerName": "Raj Patel",
        "EnterpriseProjectTypeName": "Business As Usual",
        "ProjectStartDate": d("2027-01-04T08:00"), "ProjectFinishDate": d("2027-12-31T17:00"),
        "ProjectBaselineStartDate": None, "ProjectBaselineFinishDate": None,
        "ProjectActualStartDate": d("2027-01-04T08:00"), "ProjectActualFinishDate": None,
        "ProjectStatusDate": d("2027-03-31T17:00"),
        "ProjectCost": Decimal("250000.00"), "ProjectActualCost": Decimal("62500.00"),
        "ProjectBaselineCost": Decimal("0"), "ProjectWork": Decimal("100.00"),
        "ProjectPercentCompleted": 25,
        "Portfolio": "Corporate Systems", "Programme": None, "RunOrChange": "BAU",
        "InvestmentCategory": "Run the business", "ProjectDepartments": "IT",
        "StrategicFitImpact": "Low", "CustomerImpact": "Strong", "SponsorNotes": None,
    },
    {
        "ProjectId": P4, "ProjectName": "Data Centre Exit", "ProjectOwnerName": "Ana Engineer",
        "EnterpriseProjectTypeName": "Infrastructure Change Request",
        "ProjectStartDate": d("2027-03-01T08:00"), "ProjectFinishDate": d("2027-10-29T17:00"),
        "ProjectBaselineStartDate": None, "ProjectBaselineFinishDate": None,
        "ProjectActualStartDate": None, "ProjectActualFinishDate": None, "ProjectStatusDate": None,
        "ProjectCost": Decimal("990000.00"), "ProjectActualCost": Decimal("0"),
        "ProjectBaselineCost": Decimal("0"), "ProjectWork": Decimal("0"),
        "ProjectPercentCompleted": 0,
        "Portfolio": "Infrastructure", "Programme": None, "RunOrChange": "Change",
        "InvestmentCategory": "Transform the business", "ProjectDepartments": "IT",
        "StrategicFitImpact": "Moderate", "CustomerImpact": "Low", "SponsorNotes": None,
    },
    {
        "ProjectId": P5, "ProjectName": "Website Refresh", "ProjectOwnerName": "Raj Patel",
        "EnterpriseProjectTypeName": "Enterprise Project",
        "ProjectStartDate": d("2027-04-05T08:00"), "ProjectFinishDate": d("2027-07-30T17:00"),
        "ProjectBaselineStartDate": None, "ProjectBaselineFinishDate": None,
        "ProjectActualStartDate": None, "ProjectActualFinishDate": None, "ProjectStatusDate": None,
        "ProjectCost": Decimal("-5000.00"), "ProjectActualCost": Decimal("0"),
        "ProjectBaselineCost": Decimal("0"), "ProjectWork": Decimal("0"),
        "ProjectPercentCompleted": 0,
        "Portfolio": "Corporate Systems", "Programme": None, "RunOrChange": "Change",
        "InvestmentCategory": "Grow", "ProjectDepartments": "IT",
        "StrategicFitImpact": "Low", "CustomerImpact": "Extreme", "SponsorNotes": None,
    },
    {
        "ProjectId": P6, "ProjectName": "Customer Portal", "ProjectOwnerName": "Raj Patel",
        "EnterpriseProjectTypeName": "Sample Proposal",
        "ProjectStartDate": None, "ProjectFinishDate": None,
        "ProjectBaselineStartDate": None, "ProjectBaselineFinishDate": None,
        "ProjectActualStartDate": None, "ProjectActualFinishDate": None, "ProjectStatusDate": None,
        "ProjectCost": Decimal("300000.50"), "ProjectActualCost": Decimal("0"),
        "ProjectBaselineCost": Decimal("300000.50"), "ProjectWork": Decimal("0"),
        "ProjectPercentCompleted": 0,
        "Portfolio": "Customer", "Programme": "Digital Front Door", "RunOrChange": "Change",
        "InvestmentCategory": "Grow", "ProjectDepartments": "Sales",
        "StrategicFitImpact": "Extreme", "CustomerImpact": "Extreme", "SponsorNotes": None,
    },
]  # fmt: skip

TASKS: list[dict[str, Any]] = [
    # Harbour Wall: summary, work, milestones
    {"ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000000", "TaskName": "Harbour Wall Upgrade", "TaskIndex": 0, "TaskOutlineLevel": 0, "TaskIsMilestone": False, "TaskIsSummary": True, "TaskIsProjectSummary": True, "TaskStartDate": d("2027-01-04T08:00"), "TaskFinishDate": d("2027-06-25T17:00"), "TaskBaselineStartDate": d("2027-01-04T08:00"), "TaskBaselineFinishDate": d("2027-05-28T17:00"), "TaskActualFinishDate": None},
    {"ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000001", "TaskName": "Survey", "TaskIndex": 1, "TaskOutlineLevel": 1, "TaskIsMilestone": False, "TaskIsSummary": False, "TaskIsProjectSummary": False, "TaskStartDate": d("2027-01-04T08:00"), "TaskFinishDate": d("2027-02-26T17:00"), "TaskBaselineStartDate": d("2027-01-04T08:00"), "TaskBaselineFinishDate": d("2027-02-26T17:00"), "TaskActualFinishDate": None},
    {"ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000002", "TaskName": "Design approved", "TaskIndex": 2, "TaskOutlineLevel": 1, "TaskIsMilestone": True, "TaskIsSummary": False, "TaskIsProjectSummary": False, "TaskStartDate": d("2027-02-26T17:00"), "TaskFinishDate": d("2027-02-26T17:00"), "TaskBaselineStartDate": d("2027-02-19T17:00"), "TaskBaselineFinishDate": d("2027-02-19T17:00"), "TaskActualFinishDate": d("2027-02-26T17:00")},
    {"ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000003", "TaskName": "Wall handed over", "TaskIndex": 3, "TaskOutlineLevel": 1, "TaskIsMilestone": True, "TaskIsSummary": False, "TaskIsProjectSummary": False, "TaskStartDate": d("2027-06-25T17:00"), "TaskFinishDate": d("2027-06-25T17:00"), "TaskBaselineStartDate": d("2027-05-28T17:00"), "TaskBaselineFinishDate": d("2027-05-28T17:00"), "TaskActualFinishDate": None},
    # Customer Portal: only the project summary task (a proposal without a plan)
    {"ProjectId": P6, "TaskId": "c6000000-0000-4000-8000-000000000000", "TaskName": "Customer Portal", "TaskIndex": 0, "TaskOutlineLevel": 0, "TaskIsMilestone": False, "TaskIsSummary": True, "TaskIsProjectSummary": True, "TaskStartDate": d("2027-09-06T08:00"), "TaskFinishDate": d("2028-03-24T17:00"), "TaskBaselineStartDate": d("2027-09-06T08:00"), "TaskBaselineFinishDate": d("2028-03-24T17:00"), "TaskActualFinishDate": None},
    # a task of the rejected Data Centre Exit, and one with an impossible date
    {"ProjectId": P4, "TaskId": "c4000000-0000-4000-8000-000000000001", "TaskName": "Exit signed off", "TaskIndex": 1, "TaskOutlineLevel": 1, "TaskIsMilestone": True, "TaskIsSummary": False, "TaskIsProjectSummary": False, "TaskStartDate": d("2027-10-29T17:00"), "TaskFinishDate": d("2027-10-29T17:00"), "TaskBaselineStartDate": None, "TaskBaselineFinishDate": None, "TaskActualFinishDate": None},
    {"ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000004", "TaskName": "Snagging", "TaskIndex": 4, "TaskOutlineLevel": 1, "TaskIsMilestone": False, "TaskIsSummary": False, "TaskIsProjectSummary": False, "TaskStartDate": "31/02/2027 08:00", "TaskFinishDate": d("2027-06-25T17:00"), "TaskBaselineStartDate": None, "TaskBaselineFinishDate": None, "TaskActualFinishDate": None},
]  # fmt: skip

RESOURCES: list[dict[str, Any]] = [
    {"ResourceId": R_ANA, "ResourceName": "Ana Engineer", "ResourceIsGeneric": False, "ResourceType": 2, "ResourceEmailAddress": "ana@contoso.example", "ResourceGroup": "Engineering", "ResourceDepartments": "Engineering", "RBS": "Contoso.Engineering", "ResourceMaxUnits": Decimal("1.000000"), "Role": "Civil Engineer"},
    {"ResourceId": R_RAJ, "ResourceName": "Raj Patel", "ResourceIsGeneric": False, "ResourceType": 2, "ResourceEmailAddress": "raj@contoso.example", "ResourceGroup": "IT", "ResourceDepartments": "IT", "RBS": "Contoso.IT", "ResourceMaxUnits": Decimal("1.000000"), "Role": "Developer"},
    {"ResourceId": R_BA, "ResourceName": "Business Analyst", "ResourceIsGeneric": True, "ResourceType": 2, "ResourceEmailAddress": None, "ResourceGroup": None, "ResourceDepartments": "IT", "RBS": "Contoso.IT", "ResourceMaxUnits": Decimal("3.000000"), "Role": None},
    {"ResourceId": R_DEV, "ResourceName": "Developer", "ResourceIsGeneric": True, "ResourceType": 2, "ResourceEmailAddress": None, "ResourceGroup": None, "ResourceDepartments": "IT", "RBS": "Contoso.IT", "ResourceMaxUnits": Decimal("5.000000"), "Role": None},
    {"ResourceId": R_CIV, "ResourceName": "Civil Engineer", "ResourceIsGeneric": True, "ResourceType": 2, "ResourceEmailAddress": None, "ResourceGroup": None, "ResourceDepartments": "Engineering", "RBS": "Contoso.Engineering", "ResourceMaxUnits": Decimal("2.000000"), "Role": None},
]  # fmt: skip

ASSIGNMENTS: list[dict[str, Any]] = [
    # Harbour Wall (timephased below): Ana 8 h a day for 40 weekdays, a civil engineer 100 h over 14 days
    {"AssignmentId": "f1000000-0000-4000-8000-000000000001", "ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000001", "ResourceId": R_ANA, "ResourceName": "Ana Engineer", "AssignmentStartDate": d("2027-01-04T08:00"), "AssignmentFinishDate": d("2027-02-26T17:00"), "AssignmentWork": Decimal("320.000000"), "AssignmentActualWork": Decimal("320.000000"), "AssignmentCost": Decimal("160000.000000")},
    {"AssignmentId": "f1000000-0000-4000-8000-000000000002", "ProjectId": P1, "TaskId": "c1000000-0000-4000-8000-000000000001", "ResourceId": R_CIV, "ResourceName": "Civil Engineer", "AssignmentStartDate": d("2027-02-08T08:00"), "AssignmentFinishDate": d("2027-02-25T17:00"), "AssignmentWork": Decimal("100.000000"), "AssignmentActualWork": Decimal("0"), "AssignmentCost": Decimal("50000.000000")},
    # Payroll Replacement (no timephased rows: spread over weekdays)
    {"AssignmentId": "f2000000-0000-4000-8000-000000000001", "ProjectId": P2, "TaskId": "c2000000-0000-4000-8000-000000000001", "ResourceId": R_RAJ, "ResourceName": "Raj Patel", "AssignmentStartDate": d("2027-02-01T08:00"), "AssignmentFinishDate": d("2027-05-28T17:00"), "AssignmentWork": Decimal("300.000000"), "AssignmentActualWork": Decimal("80.000000"), "AssignmentCost": Decimal("90000.000000")},
    {"AssignmentId": "f2000000-0000-4000-8000-000000000002", "ProjectId": P2, "TaskId": "c2000000-0000-4000-8000-000000000002", "ResourceId": R_BA, "ResourceName": "Business Analyst", "AssignmentStartDate": d("2027-03-01T08:00"), "AssignmentFinishDate": d("2027-04-30T17:00"), "AssignmentWork": Decimal("200.000000"), "AssignmentActualWork": Decimal("0"), "AssignmentCost": Decimal("60000.000000")},
    # Service Desk (timephased below): developers 100 h in January
    {"AssignmentId": "f3000000-0000-4000-8000-000000000001", "ProjectId": P3, "TaskId": "c3000000-0000-4000-8000-000000000001", "ResourceId": R_DEV, "ResourceName": "Developer", "AssignmentStartDate": d("2027-01-04T08:00"), "AssignmentFinishDate": d("2027-01-29T17:00"), "AssignmentWork": Decimal("100.000000"), "AssignmentActualWork": Decimal("100.000000"), "AssignmentCost": Decimal("25000.000000")},
]  # fmt: skip


def weekdays(start: dt.date, finish: dt.date) -> list[dt.date]:
    out, day = [], start
    while day <= finish:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def timephased() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for a in ASSIGNMENTS:
        if a["ProjectId"] == P2:
            continue
        days = weekdays(a["AssignmentStartDate"].date(), a["AssignmentFinishDate"].date())
        per_day = (a["AssignmentWork"] / len(days)).quantize(Decimal("0.000001"))
        actual = a["AssignmentActualWork"] > 0
        for day in days:
            rows.append({
                "ProjectId": a["ProjectId"], "AssignmentId": a["AssignmentId"],
                "TimeByDay": dt.datetime.combine(day, dt.time()), "TaskId": a["TaskId"],
                "ResourceId": a["ResourceId"], "ProjectName": _name(a["ProjectId"]),
                "AssignmentWork": per_day, "AssignmentActualWork": per_day if actual else Decimal("0"),
                "AssignmentCost": (a["AssignmentCost"] / len(days)).quantize(Decimal("0.000001")),
            })  # fmt: skip
    return rows


def resource_capacity() -> list[dict[str, Any]]:
    rows = []
    for rid, name in ((R_ANA, "Ana Engineer"), (R_RAJ, "Raj Patel")):
        for day in weekdays(dt.date(2027, 1, 1), dt.date(2028, 3, 31)):
            rows.append({"ResourceId": rid, "TimeByDay": dt.datetime.combine(day, dt.time()), "ResourceName": name, "BaseCapacity": Decimal("8"), "Capacity": Decimal("8")})  # fmt: skip
    return rows


def _name(guid: str) -> str:
    return next(p["ProjectName"] for p in PROJECTS if p["ProjectId"] == guid)


DRIVERS = [
    {"BusinessDriverId": D_REV, "BusinessDriverName": "Increase Revenue", "BusinessDriverDescription": "New or retained income", "BusinessDriverIsActive": True, "BusinessDriverCreatedDate": d("2025-11-03T10:00"), "ImpactDescriptionStrong": "More than 1m a year"},
    {"BusinessDriverId": D_COST, "BusinessDriverName": "Reduce Cost", "BusinessDriverDescription": "Lower running cost", "BusinessDriverIsActive": True, "BusinessDriverCreatedDate": d("2025-11-03T10:00"), "ImpactDescriptionStrong": "More than 500k a year"},
    {"BusinessDriverId": D_CX, "BusinessDriverName": "Improve Customer Experience", "BusinessDriverDescription": "Customer satisfaction and effort", "BusinessDriverIsActive": True, "BusinessDriverCreatedDate": d("2025-11-03T10:00"), "ImpactDescriptionStrong": "CSAT +10"},
    {"BusinessDriverId": D_REG, "BusinessDriverName": "Regulatory Compliance", "BusinessDriverDescription": "Meet our obligations", "BusinessDriverIsActive": True, "BusinessDriverCreatedDate": d("2025-11-03T10:00"), "ImpactDescriptionStrong": "Avoids enforcement"},
]  # fmt: skip

PRIORITIZATIONS = [
    {"PrioritizationId": PRI_27, "PrioritizationName": "FY2027 Portfolio Priorities", "PrioritizationDescription": "Agreed at the March 2026 portfolio board", "PrioritizationIsManual": False, "PrioritizationConsistencyRatio": Decimal("0.062000"), "PrioritizationCreatedDate": d("2026-02-10T09:00"), "PrioritizationModifiedDate": d("2026-03-01T09:00"), "DepartmentName": None},
    {"PrioritizationId": PRI_28, "PrioritizationName": "FY2028 Portfolio Priorities", "PrioritizationDescription": "Re-weighted after the customer review", "PrioritizationIsManual": True, "PrioritizationConsistencyRatio": None, "PrioritizationCreatedDate": d("2026-08-20T09:00"), "PrioritizationModifiedDate": d("2026-09-15T14:30"), "DepartmentName": None},
]  # fmt: skip

PRIORITIZATION_DRIVERS = [
    {"PrioritizationId": PRI_27, "BusinessDriverId": D_REV, "BusinessDriverName": "Increase Revenue", "BusinessDriverPriority": Decimal("41.300000"), "PrioritizationName": "FY2027 Portfolio Priorities"},
    {"PrioritizationId": PRI_27, "BusinessDriverId": D_COST, "BusinessDriverName": "Reduce Cost", "BusinessDriverPriority": Decimal("29.100000"), "PrioritizationName": "FY2027 Portfolio Priorities"},
    {"PrioritizationId": PRI_27, "BusinessDriverId": D_CX, "BusinessDriverName": "Improve Customer Experience", "BusinessDriverPriority": Decimal("18.400000"), "PrioritizationName": "FY2027 Portfolio Priorities"},
    {"PrioritizationId": PRI_27, "BusinessDriverId": D_REG, "BusinessDriverName": "Regulatory Compliance", "BusinessDriverPriority": Decimal("11.200000"), "PrioritizationName": "FY2027 Portfolio Priorities"},
    {"PrioritizationId": PRI_28, "BusinessDriverId": D_REV, "BusinessDriverName": "Increase Revenue", "BusinessDriverPriority": Decimal("20.000000"), "PrioritizationName": "FY2028 Portfolio Priorities"},
    {"PrioritizationId": PRI_28, "BusinessDriverId": D_COST, "BusinessDriverName": "Reduce Cost", "BusinessDriverPriority": Decimal("15.000000"), "PrioritizationName": "FY2028 Portfolio Priorities"},
    {"PrioritizationId": PRI_28, "BusinessDriverId": D_CX, "BusinessDriverName": "Improve Customer Experience", "BusinessDriverPriority": Decimal("50.000000"), "PrioritizationName": "FY2028 Portfolio Priorities"},
    {"PrioritizationId": PRI_28, "BusinessDriverId": D_REG, "BusinessDriverName": "Regulatory Compliance", "BusinessDriverPriority": Decimal("15.000000"), "PrioritizationName": "FY2028 Portfolio Priorities"},
]  # fmt: skip

ANALYSES = [
    {"AnalysisId": "aa000000-0000-4000-8000-000000002028", "AnalysisName": "FY2028 Investment Analysis", "AnalysisDescription": "Cost and resource constraints for FY2028", "PrioritizationId": PRI_28, "PrioritizationName": "FY2028 Portfolio Priorities", "PlanningHorizonStartDate": d("2027-04-01T00:00"), "PlanningHorizonEndDate": d("2028-03-31T00:00")},
]  # fmt: skip

ISSUES = [
    {"IssueId": "11000000-0000-4000-8000-000000000001", "ProjectId": P1, "ProjectName": "Harbour Wall Upgrade", "Title": "Crane hire delayed", "Status": "(2) Closed", "Priority": "(1) High", "Category": "(1) Category1", "AssignedToResource": "Ana Engineer", "DueDate": d("2027-02-12T00:00"), "CreatedDate": d("2027-01-20T09:12"), "ModifiedDate": d("2027-02-10T16:40"), "Discussion": "Supplier short of cranes", "Resolution": "Second supplier engaged"},
    {"IssueId": "11000000-0000-4000-8000-000000000002", "ProjectId": P2, "ProjectName": "Payroll Replacement", "Title": "Parallel run data mismatch", "Status": "(1) Active", "Priority": "(2) Medium", "Category": "(2) Category2", "AssignedToResource": "Raj Patel", "DueDate": d("2027-04-15T00:00"), "CreatedDate": d("2027-03-18T11:00"), "ModifiedDate": d("2027-03-20T11:00"), "Discussion": "Pension deductions differ", "Resolution": None},
]  # fmt: skip

RISKS = [
    {"RiskId": "22000000-0000-4000-8000-000000000001", "ProjectId": P1, "ProjectName": "Harbour Wall Upgrade", "Title": "Winter storms stop work", "Status": "(1) Active", "Category": "(1) Category1", "AssignedToResource": "Ana Engineer", "DueDate": d("2027-03-31T00:00"), "CreatedDate": d("2027-01-05T09:00"), "ModifiedDate": d("2027-01-05T09:00"), "Probability": Decimal("60"), "Impact": Decimal("8"), "Exposure": Decimal("4.8"), "Cost": Decimal("75000"), "Description": "Storm season overlaps the pour", "MitigationPlan": "Pre-cast sections", "ContingencyPlan": "Extend into April"},
    {"RiskId": "22000000-0000-4000-8000-000000000002", "ProjectId": P4, "ProjectName": "Data Centre Exit", "Title": "Lease ends before exit", "Status": "(1) Active", "Category": "(1) Category1", "AssignedToResource": "Ana Engineer", "DueDate": d("2027-09-30T00:00"), "CreatedDate": d("2027-03-02T09:00"), "ModifiedDate": d("2027-03-02T09:00"), "Probability": Decimal("30"), "Impact": Decimal("9"), "Exposure": Decimal("2.7"), "Cost": Decimal("200000"), "Description": "Landlord will not extend", "MitigationPlan": None, "ContingencyPlan": None},
    {"RiskId": "22000000-0000-4000-8000-000000000003", "ProjectId": P3, "ProjectName": "Service Desk Operations", "Title": "Key analyst leaves", "Status": "(1) Active", "Category": "(3) Category3", "AssignedToResource": "Raj Patel", "DueDate": None, "CreatedDate": d("2027-02-01T09:00"), "ModifiedDate": d("2027-02-01T09:00"), "Probability": Decimal("20"), "Impact": Decimal("4"), "Exposure": Decimal("0.8"), "Cost": None, "Description": None, "MitigationPlan": "Cross-train", "ContingencyPlan": None},
]  # fmt: skip

SETS: dict[str, list[dict[str, Any]]] = {
    "Projects": PROJECTS,
    "Tasks": TASKS,
    "Resources": RESOURCES,
    "ResourceTimephasedDataSet": resource_capacity(),
    "Assignments": ASSIGNMENTS,
    "AssignmentTimephasedDataSet": timephased(),
    "BusinessDrivers": DRIVERS,
    "Prioritizations": PRIORITIZATIONS,
    "PrioritizationDrivers": PRIORITIZATION_DRIVERS,
    "PortfolioAnalyses": ANALYSES,
    "Issues": ISSUES,
    "Risks": RISKS,
}

# ---------------------------------------------------------------------------------------------
# JSON pages
# ---------------------------------------------------------------------------------------------


def _light(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _verbose(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        ms = int((value - dt.datetime(1970, 1, 1)).total_seconds() * 1000)
        return f"/Date({ms})/"
    if isinstance(value, Decimal):
        return f"{value:.6f}"
    return value


def write_json(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in SETS.items():
        if name == "Tasks":  # OData v2 verbose, two pages
            half = len(rows) // 2
            for page, chunk in enumerate((rows[:half], rows[half:]), start=1):
                results = [
                    {"__metadata": {"id": f"{SITE}/Tasks(ProjectId=guid'{r['ProjectId']}',TaskId=guid'{r['TaskId']}')", "type": "ReportingData.Task"},
                     **{k: _verbose(v) for k, v in r.items()},
                     "Project": {"__deferred": {"uri": f"{SITE}/Tasks/Project"}}}
                    for r in chunk
                ]  # fmt: skip
                body: dict[str, Any] = {"results": results}
                if page == 1:
                    body["__next"] = (
                        f"{SITE}/Tasks?$skiptoken=guid'{chunk[-1]['ProjectId']}',guid'{chunk[-1]['TaskId']}'"
                    )
                (folder / f"Tasks_page{page}.json").write_text(
                    json.dumps({"d": body}, indent=1), encoding="utf-8"
                )
            continue
        pages = [rows[:3], rows[3:]] if name == "Projects" else [rows]
        for page, chunk in enumerate(pages, start=1):
            doc: dict[str, Any] = {
                "odata.metadata": f"{SITE}/$metadata#{name}",
                "value": [{k: _light(v) for k, v in r.items()} for r in chunk],
            }
            if page < len(pages):
                doc["odata.nextLink"] = f"{SITE}/{name}?$skiptoken=guid'{chunk[-1]['ProjectId']}'"
            suffix = f"-{page}" if len(pages) > 1 else ""
            indent = 1 if len(chunk) < 50 else None  # the feed itself sends one line
            (folder / f"{name}{suffix}.json").write_text(
                json.dumps(doc, indent=indent), encoding="utf-8"
            )


# ---------------------------------------------------------------------------------------------
# CSV as Excel saves it (European locale) with view-style headers on Projects
# ---------------------------------------------------------------------------------------------

VIEW_HEADERS = {
    "ProjectId": "Project Id", "ProjectName": "Project Name", "ProjectOwnerName": "Owner",
    "EnterpriseProjectTypeName": "Enterprise Project Type", "ProjectStartDate": "Start",
    "ProjectFinishDate": "Finish", "ProjectBaselineStartDate": "Baseline Start",
    "ProjectBaselineFinishDate": "Baseline Finish", "ProjectActualStartDate": "Actual Start",
    "ProjectActualFinishDate": "Actual Finish", "ProjectStatusDate": "Status Date",
    "ProjectCost": "Cost", "ProjectActualCost": "Actual Cost", "ProjectBaselineCost": "Baseline Cost",
    "ProjectWork": "Work", "ProjectPercentCompleted": "% Complete",
    "InvestmentCategory": "Investment Category", "RunOrChange": "Run Or Change",
    "StrategicFitImpact": "Strategic Fit Impact", "CustomerImpact": "Customer Impact",
    "SponsorNotes": "Sponsor Notes",
}  # fmt: skip


def _euro(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, Decimal):
        text = f"{value:f}"
        places = max(2, len(text.partition(".")[2].rstrip("0")))
        whole, _, frac = f"{value:.{places}f}".partition(".")
        sign = "-" if whole.startswith("-") else ""
        digits = whole.lstrip("-")
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        return f"{sign}{'.'.join(groups) or '0'},{frac}"
    return str(value)


def write_csv(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in SETS.items():
        headers: list[str] = []
        for r in rows:
            headers.extend(k for k in r if k not in headers)
        shown = [VIEW_HEADERS.get(h, h) if name == "Projects" else h for h in headers]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(shown)
        for r in rows:
            writer.writerow([_euro(r.get(h)) for h in headers])
        (folder / f"{name}.csv").write_bytes(buffer.getvalue().encode("utf-8-sig"))


# ---------------------------------------------------------------------------------------------
# Schedules (MSPDI written by hand) and a file that is not a schedule
# ---------------------------------------------------------------------------------------------


def mspdi(title: str, guid: str | None, tasks: list[tuple[int, str, str, str, bool]]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<Project xmlns="http://schemas.microsoft.com/project">',
        f"  <Name>{title}.xml</Name><Title>{title}</Title>",
    ]
    if guid:
        lines.append(f"  <GUID>{guid.upper()}</GUID>")
    lines.append("  <CurrencyCode>GBP</CurrencyCode>")
    lines.append("  <Tasks>")
    start = min(t[2] for t in tasks)
    finish = max(t[3] for t in tasks)
    lines.append(
        f"    <Task><UID>0</UID><ID>0</ID><Name>{title}</Name><OutlineLevel>0</OutlineLevel><Summary>1</Summary><Start>{start}</Start><Finish>{finish}</Finish></Task>"
    )
    for uid, name, s, f, milestone in tasks:
        flag = "<Milestone>1</Milestone><Duration>PT0H0M0S</Duration>" if milestone else ""
        lines.append(
            f"    <Task><UID>{uid}</UID><ID>{uid}</ID><Name>{name}</Name><OutlineLevel>1</OutlineLevel>{flag}<Start>{s}</Start><Finish>{f}</Finish></Task>"
        )
    lines += ["  </Tasks>", "</Project>", ""]
    return "\n".join(lines)


def write_schedules(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harbour-wall.xml").write_text(
        mspdi("Harbour Wall (site copy)", P1, [
            (1, "Survey", "2027-01-04T08:00:00", "2027-02-26T17:00:00", False),
            (2, "Design approved", "2027-02-26T17:00:00", "2027-02-26T17:00:00", True),
        ]), encoding="utf-8")  # fmt: skip
    (folder / "payroll.xml").write_text(
        mspdi("Payroll Replacement", None, [
            (1, "Build", "2027-02-01T08:00:00", "2027-08-27T17:00:00", False),
            (2, "Parallel run complete", "2027-08-27T17:00:00", "2027-08-27T17:00:00", True),
            (3, "Go live", "2027-09-30T17:00:00", "2027-09-30T17:00:00", True),
        ]), encoding="utf-8")  # fmt: skip
    (folder / "skunkworks.xml").write_text(
        mspdi("Skunkworks Pilot", "9f9f9f9f-0000-4000-8000-00000000abcd", [
            (1, "Prototype", "2027-05-03T08:00:00", "2027-06-30T17:00:00", False),
            (2, "Demo day", "2027-06-30T17:00:00", "2027-06-30T17:00:00", True),
        ]), encoding="utf-8")  # fmt: skip
    (folder / "broken.mpp").write_bytes(b"this is not a Microsoft Project file\x00\x01\x02" * 20)


MAPPING = """\
# The PMO's mapping for the fixture PWA (a copy of the projectonline preset, edited).
importer: projectonline
decimal: "{decimal}"
options:
  currency: GBP
  project_types:
    Enterprise Project: {{kind: project, nature: change, category: transform}}
    Business As Usual: {{kind: workstream, nature: run, category: run}}
    Sample Proposal: {{kind: project, nature: change, category: grow, phase: identification}}
  unknown_project_type: reject
  custom_fields:
    Portfolio: portfolio
    Programme: programme
    Run Or Change: nature
    Investment Category: category
    ProjectDepartments: org_unit
  values:
    nature: {{BAU: run}}
    category: {{Transform the business: transform, Run the business: run}}
  resource_role_field: Role
  driver_ratings:
    Strategic Fit Impact: Increase Revenue
    Customer Impact: Improve Customer Experience
"""


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    (HERE / "mapping.yaml").write_text(MAPPING.format(decimal="."), encoding="utf-8")
    (HERE / "mapping-csv.yaml").write_text(MAPPING.format(decimal=","), encoding="utf-8")
    write_json(HERE / "json")
    write_csv(HERE / "csv")
    for form in ("json", "csv"):
        write_schedules(HERE / form / "schedules")
    print(f"wrote {HERE}")


if __name__ == "__main__":
    main()
