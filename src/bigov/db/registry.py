"""Import every model module so ``Base.metadata`` is complete (Alembic, create_all, checks).

Add a context's models here when you add the context (see docs/adding-an-entity.md).
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from bigov.db.base import Base

MODEL_MODULES: tuple[str, ...] = (
    "bigov.db.batch",
    "bigov.db.settings",
    "bigov.db.dataversion",
    "bigov.db.answers",
    "bigov.org.models",
    "bigov.strategy.models",
    "bigov.work.models",
    "bigov.benefits.models",
    "bigov.finance.models",
    "bigov.resources.models",
    "bigov.raid.models",
    "bigov.governance.models",
    "bigov.governance.decision_links",
)

# Contexts built after the foundation register here too; optional so that a partially installed
# tree still opens (a missing module is a packaging bug, which the migration check test catches).
OPTIONAL_MODEL_MODULES: tuple[str, ...] = (
    "bigov.metrics.models",
    "bigov.governance.cycle_models",
    "bigov.portfolio.models",
    "bigov.auth.models",
    "bigov.ingest.projectonline.models",
    "bigov.work.return_models",
    "bigov.jobs.models",
    "bigov.datacall.models",
)


_loaded = False


def load_models() -> MetaData:
    """Import all model modules and return the complete metadata (the imports only once: this
    is called wherever code needs every table, some of it per row or per source)."""
    global _loaded
    if _loaded:
        return Base.metadata
    for name in MODEL_MODULES:
        importlib.import_module(name)
    for name in OPTIONAL_MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not exc.name or not name.startswith(exc.name):
                raise
    _loaded = True
    return Base.metadata
