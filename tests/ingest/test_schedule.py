"""Reading real schedule files with MPXJ into bigov's neutral schedule shape.

The expected values were read from the files themselves (the MSPDI XML by eye; .mpp and .xer
against MPXJ's own objects). One Java VM serves the whole pytest process: every test that reads a
file goes through ``read_schedules``, which starts it once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bigov.errors import ValidationError
from bigov.ingest.schedule import (
    HOURS_PER_FTE_DAY,
    allocate_money,
    fte_hours_in_month,
    read_schedule,
    read_schedules,
    schedule_to_records,
    spread_by_month,
    weekdays_between,
)
from bigov.ingest.schedule_models import Schedule

SCHEDULES = Path(__file__).parents[2] / ".." / "shared" / "data" / "schedules"
MSPDI_NS = {"p": "http://schemas.microsoft.com/project"}

pytestmark = pytest.mark.skipif(
    not SCHEDULES.is_dir(), reason=f"shared schedule files not found at {SCHEDULES}"
)

_CACHE: dict[str, Schedule] = {}


def schedule(name: str) -> Schedule:
    """Each real file is read once per test run."""
    if name not in _CACHE:
        _CACHE[name] = read_schedule(SCHEDULES / name)
    return _CACHE[name]


def mpxj_itself(name: str) -> Any:
    """The file as MPXJ's own Java objects, to compare against (the JVM is already running)."""
    import jpype

    schedule(name)  # makes sure the JVM was started by bigov
    reader = jpype.JClass("org.mpxj.reader.UniversalProjectReader")()
    return reader.read(str(SCHEDULES / name))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# ---------------------------------------------------------------------------------------------
# MSPDI (XML): values checked against the XML text
# ---------------------------------------------------------------------------------------------


def test_mspdi_timephased_project_values_match_the_xml() -> None:
    s = schedule("mspditimephased.xml")
    root = ET.parse(SCHEDULES / "mspditimephased.xml").getroot()
    xml_tasks = root.findall("p:Tasks/p:Task", MSPDI_NS)

    assert s.file_format == "MSPDI"
    assert s.name == "mspditimephased"  # <Name>mspditimephased.xml</Name>, extension dropped
    assert s.code == "MSPDITIMEPHASED"
    assert s.currency == "GBP"
    assert s.summary_task is not None
    assert s.summary_task.unique_id == 0
    assert len(s.tasks) == len(xml_tasks) - 1 == 40  # the summary task (UID 0) is apart
    assert s.start == at("2008-11-20T09:00")
    assert s.finish == at("2009-01-02T11:00")
    assert s.actual_start == at("2008-11-20T09:00")
    assert s.actual_finish is None
    assert s.percent_complete == 33
    by_uid = {t.unique_id: t for t in s.tasks}
    for xml_task in xml_tasks[1:]:
        task = by_uid[int(xml_task.findtext("p:UID", namespaces=MSPDI_NS) or "-1")]
        assert task.name == xml_task.findtext("p:Name", namespaces=MSPDI_NS)
        assert task.percent_complete == float(
            xml_task.findtext("p:PercentComplete", namespaces=MSPDI_NS) or 0
        )
    assert by_uid[7].actual_finish == at("2008-12-03T12:00")
    assert s.milestones == ()
    assert len(s.resources) == 41  # 42 <Resource> elements, one the blank UID 0


def _mspdi_hours(text: str) -> float:
    match = re.fullmatch(r"PT(\d+)H(\d+)M(\d+)S", text)
    assert match is not None
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours + minutes / 60 + seconds / 3600


def test_mspdi_timephased_demand_uses_the_file_timephased_work() -> None:
    s = schedule("mspditimephased.xml")
    root = ET.parse(SCHEDULES / "mspditimephased.xml").getroot()
    xml_work = sum(
        _mspdi_hours(a.findtext("p:Work", namespaces=MSPDI_NS) or "PT0H0M0S")
        for a in root.findall("p:Assignments/p:Assignment", MSPDI_NS)
    )

    assert len(s.assignments) == 40
    assert all(a.timephased for a in s.assignments)
    assert xml_work == 3175
    assert sum(d.hours for d in s.demand) == pytest.approx(xml_work)
    assert sum(a.work_hours for a in s.assignments) == pytest.approx(xml_work)
    assert {d.period for d in s.demand} == {
        dt.date(2008, 11, 1),
        dt.date(2008, 12, 1),
        dt.date(2009, 1, 1),
    }
    # Resource 1 on Task 1: the file's daily values (09:00 to 09:00 rows) give 55 h in November
    # and 20 h in December — not the 56/19 an even or row-date split would give.
    first = next(a for a in s.assignments if a.task_unique_id == 1)
    assert [m.period for m in first.months] == [dt.date(2008, 11, 1), dt.date(2008, 12, 1)]
    assert [m.hours for m in first.months] == pytest.approx([55.0, 20.0])
    november = next(d for d in s.demand if d.role == "Resource 1" and d.period.month == 11)
    assert november.fte == pytest.approx(55 / (HOURS_PER_FTE_DAY * 20))  # 20 weekdays


def test_mspdi_baselines_match_the_xml() -> None:
    s = schedule("task-baselines-project2019-mspdi.xml")
    by_uid = {t.unique_id: t for t in s.tasks}

    assert len(s.tasks) == 110
    assert s.currency == "GBP"
    assert by_uid[1].name == "Baseline Cost - Task"
    assert by_uid[1].baseline_cost == Decimal("1.00")  # MSPDI stores money in cents: <Cost>100
    assert by_uid[34].baseline_start == at("2014-04-01T09:00")
    assert by_uid[23].baseline_finish == at("2014-03-01T09:00")
    assert by_uid[78].baseline_start == at("2014-02-01T09:00")
    assert by_uid[67].baseline_finish == at("2014-01-01T09:00")
    assert by_uid[12].baseline_start is None
    # 110 assignments in the file, all "unassigned" (ResourceUID -65535): no demand.
    assert s.assignments == ()
    assert s.demand == ()
    records = schedule_to_records(s)
    budget = sum((c["budget"] for c in records["cost_line"]), Decimal(0))
    assert budget == sum((t.baseline_cost or 0 for t in s.leaf_tasks), Decimal(0))


def test_mspdi_enterprise_fields_file() -> None:
    s = schedule("enterprise.xml")

    assert s.name == "Test Enterprise Resource Fields.Published"
    assert [t.name for t in s.tasks] == ["Task One 1"]
    assert [r.name for r in s.resources] == ["Resource One"]
    assert s.start == at("2007-12-05T08:00")
    assert s.finish == at("2007-12-05T17:00")
    assert s.demand == ()
    assert s.currency is None  # no <CurrencyCode>, and "$" is not one currency
    assert s.currency_symbol == "$"


# ---------------------------------------------------------------------------------------------
# .mpp and Primavera: compared with MPXJ itself and with sanity totals
# ---------------------------------------------------------------------------------------------


def test_mpp_matches_mpxj() -> None:
    s = schedule("task-costs-project2013-mpp14.mpp")
    java = mpxj_itself("task-costs-project2013-mpp14.mpp")
    java_tasks = [t for t in java.getTasks() if int(t.getUniqueID()) != 0]

    assert s.file_format == "MPP"
    assert s.name == "task-costs-project2013-mpp14"
    assert [t.name for t in s.tasks] == [str(t.getName()) for t in java_tasks]
    assert [t.name for t in s.tasks] == [f"Cost{i}" for i in range(1, 11)]
    assert s.currency == "GBP"
    assert s.start == at("2014-11-11T08:00")
    assert all(t.cost == Decimal("0.00") for t in s.tasks)  # its costs are in Cost1..Cost10


def test_xer_matches_mpxj_and_demand_adds_up() -> None:
    s = schedule("resource-rates-test.xer")
    java = mpxj_itself("resource-rates-test.xer")

    assert s.file_format == "XER"
    assert s.name == "Resource Rates Test"
    assert s.project_id == "NEWPROJ"
    assert s.code == "NEWPROJ"
    assert s.summary_task is None
    assert len(s.tasks) == len(list(java.getTasks())) == 2
    activity = next(t for t in s.tasks if not t.is_summary)
    assert activity.activity_id == "A1000"
    assert activity.name == "Activity 1"
    assert activity.parent_unique_id == next(t for t in s.tasks if t.is_summary).unique_id
    assert s.cost == Decimal("27600.00")
    assert s.baseline_cost == Decimal("27600.00")
    assert s.baseline_start == at("2022-08-22T08:00")
    assert s.baseline_finish == at("2022-09-30T17:00")

    java_work = sum(float(a.getWork().getDuration()) for a in java.getResourceAssignments())
    java_cost = sum(float(a.getCost().doubleValue()) for a in java.getResourceAssignments())
    assert len(s.assignments) == 5
    assert not any(a.timephased for a in s.assignments)  # XER has none: spread evenly
    assert sum(d.hours for d in s.demand) == pytest.approx(java_work) == 1200
    assert sum((d.cost for d in s.demand), Decimal(0)) == Decimal(str(java_cost)) == 27600
    # 22 Aug..30 Sep 2022: 8 weekdays in August, 22 in September.
    resource_1 = {d.period: d for d in s.demand if d.role == "Resource 1"}
    assert resource_1[dt.date(2022, 8, 1)].hours == pytest.approx(720 * 8 / 30)
    assert resource_1[dt.date(2022, 9, 1)].fte == pytest.approx(528 / (22 * 7.5))
    assert {d.role for d in s.demand} == {"Resource 1", "Role 1"}  # the P6 assignment role


def test_xer_records() -> None:
    records = schedule_to_records(schedule("resource-rates-test.xer"), default_currency="USD")

    [item] = records["work_item"]
    assert item["code"] == "NEWPROJ"
    assert item["kind"] == "project"
    assert item["nature"] == "change"
    assert item["phase"] == "definition"
    assert item["baseline_start"] == dt.date(2022, 8, 22)
    assert item["forecast_finish"] == dt.date(2022, 9, 30)
    lines = {c["period"]: c for c in records["cost_line"]}
    assert lines[dt.date(2022, 8, 1)]["forecast"] == Decimal("7360.00")
    assert lines[dt.date(2022, 9, 1)]["forecast"] == Decimal("20240.00")
    assert sum(c["budget"] for c in lines.values()) == Decimal("27600.00")
    assert all(c["currency"] == "USD" and c["actual"] is None for c in lines.values())
    assert {k["code"] for k in records["skill"]} == {"RESOURCE-1", "ROLE-1"}
    assert sum(d["hours"] for d in records["demand"]) == Decimal("1200.00")


def test_pmxml_percent_complete_of_each_type() -> None:
    s = schedule("percent-complete-8.4.pmxml")

    assert s.file_format == "PMXML"
    assert s.name == "Percent Complete Test"
    assert s.project_id == "EC00640"
    assert s.status_date == at("2015-02-24T00:00")
    assert len(s.tasks) == 12
    assert s.resources == ()
    assert s.demand == ()
    # Activities are named after their percent-complete type and value ("Physical 75%", ...).
    for task in s.tasks:
        kind, percent = task.name.split()
        assert kind in {"Duration", "Physical", "Units"}
        assert task.percent_complete == float(percent.rstrip("%")), task.name
    assert [t.activity_id for t in s.tasks[:3]] == ["A1000", "A1010", "A1020"]
    assert schedule_to_records(s)["work_item"][0]["phase"] == "delivery"
    assert schedule_to_records(s)["cost_line"] == []  # no costs in the file


def test_several_projects_in_one_file(tmp_path: Path) -> None:
    """A PMXML file with two projects (the real file with its project copied under a new id)."""
    text = (SCHEDULES / "percent-complete-8.4.pmxml").read_text(encoding="utf-8")
    start, end = text.index("\t<Project>"), text.index("</Project>") + len("</Project>")
    copy = (
        text[start:end]
        .replace("<Id>EC00640</Id>", "<Id>EC00641</Id>")
        .replace("<Name>Percent Complete Test</Name>", "<Name>Second Project</Name>")
        .replace("ObjectId>4507<", "ObjectId>4508<")
    )
    copy = re.sub(r"<ObjectId>(1017\d\d)</ObjectId>", r"<ObjectId>2\1</ObjectId>", copy)
    two = tmp_path / "two.pmxml"
    two.write_text(text[:end] + "\n" + copy + text[end:], encoding="utf-8")

    schedules = read_schedules(two)
    assert [(s.code, s.name, len(s.tasks)) for s in schedules] == [
        ("EC00640", "Percent Complete Test", 12),
        ("EC00641", "Second Project", 12),
    ]
    with pytest.raises(ValidationError, match="holds 2 projects"):
        read_schedule(two)


# ---------------------------------------------------------------------------------------------
# A small MSPDI file with what the real ones lack: milestones, groups, costs, actuals
# ---------------------------------------------------------------------------------------------

HARBOUR = """\
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <Name>harbour-wall.xml</Name><Title>Harbour Wall Upgrade</Title>
  <CurrencyCode>EUR</CurrencyCode><CurrencySymbol>€</CurrencySymbol>
  <StatusDate>2024-01-31T17:00:00</StatusDate>
  <StartDate>2024-01-08T08:00:00</StartDate><FinishDate>2024-04-12T17:00:00</FinishDate>
  <Tasks>
    <Task><UID>0</UID><ID>0</ID><Name>Harbour Wall Upgrade</Name><OutlineLevel>0</OutlineLevel>
      <Summary>1</Summary><Start>2024-01-08T08:00:00</Start><Finish>2024-04-12T17:00:00</Finish>
      <ActualStart>2024-01-08T08:00:00</ActualStart><PercentComplete>30</PercentComplete>
      <Cost>1650000</Cost><ActualCost>400000</ActualCost><RemainingCost>1250000</RemainingCost>
      <Baseline><Number>0</Number><Start>2024-01-08T08:00:00</Start>
        <Finish>2024-03-29T17:00:00</Finish><Cost>1500000</Cost></Baseline></Task>
    <Task><UID>1</UID><ID>1</ID><Name>Design</Name><WBS>1</WBS><OutlineNumber>1</OutlineNumber>
      <OutlineLevel>1</OutlineLevel><Summary>1</Summary><Start>2024-01-08T08:00:00</Start>
      <Finish>2024-02-02T17:00:00</Finish><PercentComplete>60</PercentComplete>
      <Cost>650000</Cost><ActualCost>400000</ActualCost></Task>
    <Task><UID>2</UID><ID>2</ID><Name>Survey</Name><WBS>1.1</WBS><OutlineLevel>2</OutlineLevel>
      <Start>2024-01-08T08:00:00</Start><Finish>2024-01-12T17:00:00</Finish>
      <ActualStart>2024-01-08T08:00:00</ActualStart><ActualFinish>2024-01-12T17:00:00</ActualFinish>
      <PercentComplete>100</PercentComplete><Cost>200000</Cost><ActualCost>200000</ActualCost>
      <Baseline><Number>0</Number><Start>2024-01-08T08:00:00</Start>
        <Finish>2024-01-12T17:00:00</Finish><Cost>200000</Cost></Baseline></Task>
    <Task><UID>3</UID><ID>3</ID><Name>Drawings</Name><WBS>1.2</WBS><OutlineLevel>2</OutlineLevel>
      <Start>2024-01-15T08:00:00</Start><Finish>2024-02-02T17:00:00</Finish>
      <ActualStart>2024-01-15T08:00:00</ActualStart><PercentComplete>40</PercentComplete>
      <Cost>450000</Cost><ActualCost>200000</ActualCost>
      <Baseline><Number>0</Number><Start>2024-01-15T08:00:00</Start>
        <Finish>2024-01-26T17:00:00</Finish><Cost>300000</Cost></Baseline></Task>
    <Task><UID>4</UID><ID>4</ID><Name>Design approved</Name><WBS>1.3</WBS>
      <OutlineLevel>2</OutlineLevel><Milestone>1</Milestone><Duration>PT0H0M0S</Duration>
      <Start>2024-02-02T17:00:00</Start><Finish>2024-02-02T17:00:00</Finish>
      <Baseline><Number>0</Number><Start>2024-01-26T17:00:00</Start>
        <Finish>2024-01-26T17:00:00</Finish></Baseline></Task>
    <Task><UID>5</UID><ID>5</ID><Name>Build</Name><WBS>2</WBS><OutlineLevel>1</OutlineLevel>
      <Summary>1</Summary><Start>2024-03-04T08:00:00</Start><Finish>2024-04-12T17:00:00</Finish>
      <Cost>1000000</Cost></Task>
    <Task><UID>6</UID><ID>6</ID><Name>Construct wall</Name><WBS>2.1</WBS>
      <OutlineLevel>2</OutlineLevel><Start>2024-03-04T08:00:00</Start>
      <Finish>2024-04-12T17:00:00</Finish><FixedCost>100000</FixedCost><Cost>1000000</Cost>
      <Baseline><Number>0</Number><Start>2024-03-04T08:00:00</Start>
        <Finish>2024-03-29T17:00:00</Finish><Cost>1000000</Cost></Baseline></Task>
    <Task><UID>7</UID><ID>7</ID><Name>Handover</Name><WBS>2.2</WBS><OutlineLevel>2</OutlineLevel>
      <Milestone>1</Milestone><Duration>PT0H0M0S</Duration>
      <Start>2024-04-12T17:00:00</Start><Finish>2024-04-12T17:00:00</Finish></Task>
  </Tasks>
  <Resources>
    <Resource><UID>0</UID><ID>0</ID><Type>1</Type></Resource>
    <Resource><UID>1</UID><ID>1</ID><Name>Ana Engineer</Name><Type>1</Type>
      <Group>Engineering</Group><Code>ENG01</Code></Resource>
    <Resource><UID>2</UID><ID>2</ID><Name>Bo Builder</Name><Type>1</Type></Resource>
    <Resource><UID>3</UID><ID>3</ID><Name>Concrete</Name><Type>0</Type></Resource>
  </Resources>
  <Assignments>
    <Assignment><UID>1</UID><TaskUID>2</TaskUID><ResourceUID>1</ResourceUID>
      <Start>2024-01-08T08:00:00</Start><Finish>2024-01-12T17:00:00</Finish>
      <Work>PT40H0M0S</Work><Cost>200000</Cost><ActualCost>200000</ActualCost></Assignment>
    <Assignment><UID>2</UID><TaskUID>3</TaskUID><ResourceUID>1</ResourceUID>
      <Start>2024-01-15T08:00:00</Start><Finish>2024-02-02T17:00:00</Finish>
      <Work>PT120H0M0S</Work><Cost>450000</Cost><ActualCost>200000</ActualCost></Assignment>
    <Assignment><UID>3</UID><TaskUID>6</TaskUID><ResourceUID>2</ResourceUID>
      <Start>2024-03-04T08:00:00</Start><Finish>2024-04-12T17:00:00</Finish>
      <Work>PT240H0M0S</Work><Cost>400000</Cost></Assignment>
    <Assignment><UID>4</UID><TaskUID>6</TaskUID><ResourceUID>3</ResourceUID>
      <Start>2024-03-04T08:00:00</Start><Finish>2024-04-12T17:00:00</Finish>
      <Work>PT3000H0M0S</Work><Cost>500000</Cost><Units>50</Units></Assignment>
  </Assignments>
</Project>
"""


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Schedule:
    path = tmp_path_factory.mktemp("harbour") / "harbour-wall.xml"
    path.write_text(HARBOUR, encoding="utf-8")
    return read_schedule(path)


def test_summaries_milestones_and_resources(harbour: Schedule) -> None:
    assert harbour.name == "Harbour Wall Upgrade"  # the Title wins over the file <Name>
    assert harbour.code == "HARBOUR-WALL-UPGRADE"
    assert harbour.currency == "EUR"
    assert len(harbour.tasks) == 7
    assert [t.name for t in harbour.tasks if t.is_summary] == ["Design", "Build"]
    assert [(m.unique_id, m.name) for m in harbour.milestones] == [
        (4, "Design approved"),
        (7, "Handover"),
    ]
    assert {t.unique_id: t.parent_unique_id for t in harbour.tasks}[6] == 5
    assert [(r.name, r.kind, r.group) for r in harbour.resources] == [
        ("Ana Engineer", "work", "Engineering"),
        ("Bo Builder", "work", None),
        ("Concrete", "material", None),
    ]
    assert (harbour.cost, harbour.baseline_cost, harbour.actual_cost) == (
        Decimal("16500.00"),
        Decimal("15000.00"),
        Decimal("4000.00"),
    )


def test_demand_by_role_and_month(harbour: Schedule) -> None:
    demand = {(d.role, d.period): d for d in harbour.demand}

    # Role = resource group, else the resource name; the material resource is not demand.
    assert {role for role, _ in demand} == {"Engineering", "Bo Builder"}
    # Drawings, 120 h over 15 Jan..2 Feb: 13 weekdays in January, 2 in February; Survey 40 h.
    assert demand[("Engineering", dt.date(2024, 1, 1))].hours == pytest.approx(40 + 104)
    assert demand[("Engineering", dt.date(2024, 2, 1))].hours == pytest.approx(16)
    assert demand[("Engineering", dt.date(2024, 1, 1))].cost == Decimal("5900.00")
    # 240 h over 4 Mar..12 Apr: 20 weekdays in March, 10 in April; March has 21 weekdays.
    march = demand[("Bo Builder", dt.date(2024, 3, 1))]
    assert march.hours == pytest.approx(160)
    assert march.fte == pytest.approx(160 / (21 * HOURS_PER_FTE_DAY))


def test_records(harbour: Schedule) -> None:
    records = schedule_to_records(harbour)

    [item] = records["work_item"]
    assert item == {
        "code": "HARBOUR-WALL-UPGRADE",
        "name": "Harbour Wall Upgrade",
        "kind": "project",
        "nature": "change",
        "category": "transform",
        "phase": "delivery",
        "baseline_start": dt.date(2024, 1, 8),
        "baseline_finish": dt.date(2024, 3, 29),
        "forecast_start": dt.date(2024, 1, 8),
        "forecast_finish": dt.date(2024, 4, 12),
        "actual_start": dt.date(2024, 1, 8),
        "actual_finish": None,
        "percent_complete": Decimal("30.00"),
    }
    assert records["milestone"] == [
        {
            "code": "HARBOUR-WALL-UPGRADE-M4",
            "work_item_code": "HARBOUR-WALL-UPGRADE",
            "name": "Design approved",
            "baseline_date": dt.date(2024, 1, 26),
            "forecast_date": dt.date(2024, 2, 2),
            "actual_date": None,
        },
        {
            "code": "HARBOUR-WALL-UPGRADE-M7",
            "work_item_code": "HARBOUR-WALL-UPGRADE",
            "name": "Handover",
            "baseline_date": None,
            "forecast_date": dt.date(2024, 4, 12),
            "actual_date": None,
        },
    ]
    lines = {c["period"].month: c for c in records["cost_line"]}
    assert sorted(lines) == [1, 2, 3, 4]
    assert sum(c["budget"] for c in lines.values()) == Decimal("15000.00")
    assert sum(c["forecast"] for c in lines.values()) == Decimal("16500.00")
    assert sum(c["actual"] or 0 for c in lines.values()) == Decimal("4000.00")
    assert lines[1]["actual"] == Decimal("4000.00")  # both tasks' actuals fall before 31 Jan
    assert lines[3]["budget"] == Decimal("10000.00")  # the wall's baseline is all in March
    assert all(c["currency"] == "EUR" for c in lines.values())
    assert [s["code"] for s in records["skill"]] == ["BO-BUILDER", "ENGINEERING"]
    codes = [r["code"] for rows in records.values() for r in rows]
    assert len(codes) == len(set(codes))
    assert all(len(code) <= 64 for code in codes)


@pytest.mark.parametrize(
    ("percent", "actual_start", "actual_finish", "phase"),
    [
        (0.0, None, None, "definition"),
        (10.0, "2024-01-08T08:00", None, "delivery"),
        (100.0, "2024-01-08T08:00", "2024-04-12T17:00", "closure"),
    ],
)
def test_phase_from_progress(
    harbour: Schedule,
    percent: float,
    actual_start: str | None,
    actual_finish: str | None,
    phase: str,
) -> None:
    changed = harbour.model_copy(
        update={
            "percent_complete": percent,
            "actual_start": actual_start and at(actual_start),
            "actual_finish": actual_finish and at(actual_finish),
        }
    )
    assert schedule_to_records(changed)["work_item"][0]["phase"] == phase


# ---------------------------------------------------------------------------------------------
# Bad files: one clear ValidationError, never a traceback
# ---------------------------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    real_xml = (SCHEDULES / "task-baselines-project2019-mspdi.xml").read_bytes()
    real_mpp = (SCHEDULES / "task-costs-project2013-mpp14.mpp").read_bytes()
    real_xer = (SCHEDULES / "resource-rates-test.xer").read_bytes()
    contents = {
        "empty.mpp": b"",
        "random.mpp": bytes((i * 7919 + 13) % 256 for i in range(5000)),
        "truncated.xml": real_xml[:20000],
        "truncated.mpp": real_mpp[:100000],
        "truncated.xer": real_xer[:3000],
        "notes.txt": b"Minutes of the project board\nNothing to see here.\n",
        "costs.csv": b"code,period,budget\nP1,2024-01-01,100\n",
        "other.xml": b'<?xml version="1.0"?><invoice><total>3</total></invoice>',
    }
    paths = {}
    for name, data in contents.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.mpp", "empty"),
        ("random.mpp", "not a schedule"),
        ("truncated.xml", "XML document structures must start and end"),
        ("truncated.mpp", "not a schedule"),
        ("truncated.xer", "no tasks"),
        ("notes.txt", "not a schedule"),
        ("costs.csv", "not a schedule"),
        ("other.xml", "not a schedule"),
    ],
)
def test_bad_files_are_rejected_clearly(tmp_path: Path, name: str, reason: str) -> None:
    path = _bad_files(tmp_path)[name]

    with pytest.raises(ValidationError) as caught:
        read_schedules(path)
    message = str(caught.value)
    assert str(path) in message
    assert reason in message
    assert "\n" not in message
    assert "Traceback" not in message and "Exception" not in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="file not found"):
        read_schedule(tmp_path / "nope.mpp")
    with pytest.raises(ValidationError, match="not a file"):
        read_schedule(tmp_path)


def test_missing_java_is_a_config_error(tmp_path: Path) -> None:
    """Run in a fresh interpreter: in this one the JVM is already up (and cannot be stopped)."""
    script = textwrap.dedent(
        f"""
        import jpype
        def no_java():
            raise jpype.JVMNotFoundException("No JVM shared library file (libjvm.so) found.")
        jpype.getDefaultJVMPath = no_java
        from bigov.errors import ConfigError
        from bigov.ingest.schedule import read_schedule
        try:
            read_schedule({str(SCHEDULES / "enterprise.xml")!r})
        except ConfigError as exc:
            print("ConfigError:", exc)
        """
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert "ConfigError: no usable Java runtime" in done.stdout, done.stderr
    assert "apt-get install default-jre-headless" in done.stdout


# ---------------------------------------------------------------------------------------------
# Month spreading: properties
# ---------------------------------------------------------------------------------------------

DAYS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))


@given(
    total=st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False),
    start=DAYS,
    length=st.integers(min_value=-10, max_value=2000),
)
def test_spread_by_month_properties(total: float, start: dt.date, length: int) -> None:
    finish = start + dt.timedelta(days=length)
    shares = spread_by_month(total, start, finish)

    assert sum(shares.values()) == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert all(v >= 0 for v in shares.values())
    last = max(start, finish)
    assert all(dt.date(start.year, start.month, 1) <= m <= last for m in shares)
    assert all(m.day == 1 for m in shares)
    if total > 0 and weekdays_between(start, last) > 0:
        # only months holding a weekday of the span get a share, in proportion to them
        for month, share in shares.items():
            month_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            days = weekdays_between(max(start, month), min(last, month_end))
            assert share == pytest.approx(total * days / weekdays_between(start, last))


@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.dictionaries(
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2001, 12, 1)).map(
            lambda d: d.replace(day=1)
        ),
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        min_size=1,
        max_size=24,
    ),
)
def test_allocate_money_adds_up_exactly(cents: int, weights: dict[dt.date, float]) -> None:
    total = Decimal(cents) / 100
    parts = allocate_money(total, weights)

    if any(w > 0 for w in weights.values()):
        assert sum(parts.values(), Decimal(0)) == total
    else:
        assert parts == {}
    assert all((p > 0) if total > 0 else (p < 0) for p in parts.values())
    assert all(weights[k] > 0 for k in parts)
    assert all(p == p.quantize(Decimal("0.01")) for p in parts.values())


def test_fte_hours_in_month() -> None:
    assert fte_hours_in_month(dt.date(2024, 3, 15)) == 21 * HOURS_PER_FTE_DAY
    assert fte_hours_in_month(dt.date(2024, 2, 1)) == 21 * HOURS_PER_FTE_DAY
    assert fte_hours_in_month(dt.date(2022, 9, 1)) == 22 * HOURS_PER_FTE_DAY
    assert weekdays_between(dt.date(2024, 3, 2), dt.date(2024, 3, 3)) == 0  # a weekend
    assert spread_by_month(8.0, dt.date(2024, 3, 2), dt.date(2024, 3, 3)) == {
        dt.date(2024, 3, 1): 8.0
    }
