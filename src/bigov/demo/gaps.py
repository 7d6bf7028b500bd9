"""The deliberate gaps the demo plants, so that later analysis has something true to find."""

from __future__ import annotations

from decimal import Decimal

# The planted gaps (codes of the small scale; at large scale region 1 carries the same codes and
# every other region the same gaps with its suffix). Tests check that analysis finds each.
DELIBERATE_GAPS: dict[str, tuple[str, ...]] = {
    # active objectives that no work item contributes to
    "objectives_without_work": ("OTC-O-06", "OTC-O-10"),
    # an objective whose only contributors are proposals with no budget (no cost lines)
    "objectives_without_funded_work": ("OTC-O-09",),
    # projects with cost but no contribution to any OTC (nor any ancestor's)
    "work_without_otc": ("PRJ-ENT-003", "PRJ-NET-002", "PRJ-ENT-004", "PRJ-CUST-002"),
    "benefits_without_owner": ("BEN-0007", "BEN-0023", "BEN-0041"),
    "benefits_without_measure": ("BEN-0015",),
    # a target delegated to a management team but taken into none of its business plans
    "targets_without_business_plan": ("OTC-T-06",),
    # a challenge with no innovation work contributing to it
    "challenges_without_innovation": ("OTC-C-03",),
    # an OTC whose contributors' weights sum to 0.85, not 1
    "contribution_weights_not_one": ("OTC-O-05",),
}

# a project with no board of its own, outside its programme board's remit: its business unit's
# management team still governs it (a node governs the work of the org units in its scope), so
# it is *not* ungoverned work, and `bigov gaps` and `bigov governance propose` both say so
_UNGOVERNED = "AUTO-004"
_NO_OWNER_BENEFITS = (7, 23, 41)
_NO_MEASURE_BENEFITS = (15,)
_WEIGHTS_OFF: dict[str, Decimal] = {"O-05": Decimal("0.85")}
_NO_PLAN_TARGETS = ("T-06",)
_HOT_SKILLS = ("SK-DATA", "SK-ARCH")  # deliberately under-supplied: over-allocated in peak months
