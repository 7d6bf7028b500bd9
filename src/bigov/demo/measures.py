"""The operational measures the demo defines (:mod:`bigov.metrics.demo` generates their
observations)."""

from __future__ import annotations

from typing import NamedTuple


class OperationalMeasure(NamedTuple):
    """An operational measure the metrics context generates observations for."""

    code: str
    name: str
    unit: str
    frequency: str  # hourly | daily
    aggregation: str  # sum | last | weighted_mean | max
    org_unit_code: str


OPERATIONAL_MEASURES: tuple[OperationalMeasure, ...] = (
    OperationalMeasure(
        "CALLS-HANDLED", "Calls handled", "calls", "hourly", "sum", "DEP-RET-CONTACT"
    ),
    OperationalMeasure(
        "ABANDON-RATE", "Call abandonment rate", "%", "hourly", "weighted_mean", "DEP-RET-CONTACT"
    ),
    OperationalMeasure(
        "PEAK-QUEUE-TIME", "Longest queue time", "s", "hourly", "max", "DEP-RET-CONTACT"
    ),
    OperationalMeasure(
        "COMPLAINTS", "Complaints received", "complaints", "daily", "sum", "DEP-RET-CX"
    ),
    OperationalMeasure("BILLS-ISSUED", "Bills issued", "bills", "daily", "sum", "DEP-RET-BILLING"),
    OperationalMeasure(
        "FIRST-TIME-FIX", "First-time fix rate", "%", "daily", "weighted_mean", "DEP-NET-FIELD"
    ),
    OperationalMeasure(
        "BACKLOG", "Open field work orders", "jobs", "daily", "last", "DEP-NET-FIELD"
    ),
    OperationalMeasure("LEAKAGE", "Leakage", "Ml/d", "daily", "weighted_mean", "DEP-NET-ASSETS"),
    OperationalMeasure(
        "SUPPLY-INTERRUPTIONS",
        "Supply interruptions over 3 hours",
        "count",
        "daily",
        "sum",
        "DEP-NET-CONTROL",
    ),
    OperationalMeasure(
        "POLLUTION-INCIDENTS", "Pollution incidents", "count", "daily", "sum", "DEP-WAS-SEWER"
    ),
    OperationalMeasure(
        "AP-INVOICES",
        "Invoices paid within 30 days",
        "%",
        "daily",
        "weighted_mean",
        "DEP-FIN-CONTROL",
    ),
    OperationalMeasure(
        "SYSTEM-AVAILABILITY",
        "Customer systems availability",
        "%",
        "hourly",
        "weighted_mean",
        "DEP-DIG-ITOPS",
    ),
    OperationalMeasure(
        "IT-INCIDENTS", "Priority 1 and 2 IT incidents", "count", "daily", "sum", "DEP-DIG-ITOPS"
    ),
)
