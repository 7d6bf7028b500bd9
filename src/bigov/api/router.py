"""/api/v1: one router per context."""

from __future__ import annotations

from fastapi import APIRouter

from bigov.api import (
    analysis,
    audit,
    benefits,
    cycles,
    datacalls,
    governance,
    imports,
    jobs,
    metrics,
    money,
    org,
    portfolio,
    raid,
    session,
    strategy,
    work,
)

router = APIRouter()
for module in (session, work, benefits, raid, money, cycles, analysis, governance, org, audit):
    router.include_router(module.router)
router.include_router(imports.router)
router.include_router(strategy.router)
router.include_router(metrics.router)
router.include_router(portfolio.router)
router.include_router(cycles.decisions_router)
router.include_router(jobs.router)
router.include_router(datacalls.router)
