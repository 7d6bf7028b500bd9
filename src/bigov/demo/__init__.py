"""A deterministic, seeded, scalable synthetic enterprise: "Northwind Utilities plc".

:func:`generate` fills an empty workspace with a credible UK multi-utility — organisation, strategy
(OTIGs, versioned OTCs, key results), run and change work, governance nodes with tolerances and
standing agendas, benefits with profiles, three fiscal years of monthly costs, resource capacity
and demand, RAID logs and monthly status reports — plus a few *deliberate gaps* (listed in
:data:`DELIBERATE_GAPS`) so that later analysis has something true to find.

Callers may rely on:

* the same ``seed``, ``scale`` and ``as_of`` give the same rows (codes, values, links); only the
  audit timestamps and the import batch's own times differ between runs;
* every row carries the batch id of one ``ImportBatch(source="demo")`` and
  ``written_by="bigov demo"``;
* the whole run is one transaction: an error or an interruption leaves the database as it was.

Rows are built in memory with pre-assigned ids and written with bulk inserts in foreign-key order,
so ``scale="large"`` (×25 business units, portfolios and programmes) stays in the range of a minute.
"""

from bigov.demo.common import DEFAULT_AS_OF, SCALES, WRITTEN_BY
from bigov.demo.gaps import DELIBERATE_GAPS
from bigov.demo.generator import DemoReport, generate
from bigov.demo.measures import OPERATIONAL_MEASURES, OperationalMeasure

__all__ = [
    "DEFAULT_AS_OF",
    "DELIBERATE_GAPS",
    "OPERATIONAL_MEASURES",
    "SCALES",
    "WRITTEN_BY",
    "DemoReport",
    "OperationalMeasure",
    "generate",
]
