"""The workspace facade: one open database and the services of every context.

The CLI, the web app, the API and the tests all go through :class:`Workspace`; none of them holds
business logic. Open one with :meth:`Workspace.open`, use it as a context manager, and reach the
contexts through its attributes (``ws.work``, ``ws.finance``, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bigov.db import dataversion, migrate
from bigov.db.engine import default_url, make_engine, parse_url
from bigov.db.settings import DEFAULTS, Setting
from bigov.errors import DatabaseError

if TYPE_CHECKING:
    from bigov.benefits.service import BenefitService
    from bigov.datacall.service import DataCallService
    from bigov.finance.service import FinanceService
    from bigov.governance.service import GovernanceService
    from bigov.jobs.service import JobService
    from bigov.metrics.service import MetricsService
    from bigov.ops.settings import SettingsService
    from bigov.org.service import OrgService
    from bigov.portfolio.service import PortfolioService
    from bigov.raid.service import RaidService
    from bigov.resources.service import ResourceService
    from bigov.strategy.service import StrategyService
    from bigov.work.service import WorkService


class Workspace:
    """An open bigov database. Thread-safe to share; each unit of work takes its own session."""

    def __init__(self, engine: Engine, url: URL, schema: str | None = None) -> None:
        self.engine = engine
        self.url = url
        self.schema = schema
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        schema: str | None = None,
        migrate_schema: bool = True,
        create: bool = True,
    ) -> Workspace:
        """Open (and by default create or migrate) the workspace at ``url``.

        ``url`` defaults to ``$BIGOV_DB`` or ``sqlite:///bigov.db``; a bare path means a SQLite
        file. ``schema`` (PostgreSQL) keeps the workspace in its own schema, created if absent;
        it can also be given in the URL as ``?schema=NAME``, so one ``--db`` string names it.
        ``create=False`` opens only an existing workspace (a read-only command must not leave an
        empty database behind a mistyped ``--db``).

        Raises:
            ConfigError: malformed or unsupported URL.
            DatabaseError: the database cannot be reached.
            SchemaVersionError: the database is from a newer bigov or is not a bigov database.
            DatabaseError: ``create=False`` and there is no workspace at ``url``.
        """
        parsed = parse_url(url or default_url())
        if "schema" in parsed.query:
            in_url = parsed.query["schema"]
            schema = schema or (in_url if isinstance(in_url, str) else in_url[0])
            parsed = parsed.difference_update_query(["schema"])
        # The models are not all imported here: each service imports its own, so a command
        # maps only the tables it touches (mapping all ~75 classes was half of `bigov status`).
        # A migration loads them all (the Alembic environment does).
        missing = DatabaseError(
            f"no workspace at {parsed.render_as_string(hide_password=True)}"
            + (f" (schema {schema})" if schema else ""),
            hint="run `bigov init` (or check the --db URL)",
        )
        if not create and parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if not database or database == ":memory:" or not Path(database).expanduser().is_file():
                raise missing
        engine: Engine | None = None
        try:
            engine = make_engine(parsed, schema=schema)
            if not create:
                with engine.connect() as conn:
                    if migrate.check_compatible(conn) is None:
                        raise missing
            if create and schema and parsed.get_backend_name() == "postgresql":
                with engine.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{_safe_ident(schema)}"'))
            if migrate_schema:
                migrate.upgrade(engine)
            else:
                with engine.connect() as conn:
                    migrate.check_compatible(conn)
            # every committed write moves the data version kept answers are keyed by
            dataversion.install(engine)
        except SQLAlchemyDatabaseError as exc:
            # OperationalError (unreachable, bad credentials) and 'file is not a database' alike
            if engine is not None:
                engine.dispose()
            raise DatabaseError(
                f"cannot open database {parsed.render_as_string(hide_password=True)}: "
                f"{_first_line(exc.orig)}",
                hint="check the --db URL, that the server is running and the credentials",
            ) from exc
        except BaseException:
            if engine is not None:
                engine.dispose()
            raise
        return cls(engine, parsed, schema)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sessions ----------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL and in-memory databases."""
        if self.backend != "sqlite" or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database).resolve()

    def describe(self, *, hide_password: bool = True) -> str:
        """The URL (with ``?schema=`` when the workspace lives in one), for messages or for
        handing to another process; the password is hidden unless asked for."""
        url = self.url.update_query_dict({"schema": self.schema}) if self.schema else self.url
        return url.render_as_string(hide_password=hide_password)

    # -- settings ----------------------------------------------------------------------------
    def setting(self, key: str) -> str:
        """A workspace setting, falling back to the documented default."""
        with self.session() as s:
            row = s.get(Setting, key)
            if row is not None:
                return row.value
        return DEFAULTS[key]

    def set_setting(self, key: str, value: str) -> None:
        """Store a workspace setting (validated by the caller)."""
        with self.session() as s:
            row = s.get(Setting, key)
            if row is None:
                s.add(Setting(key=key, value=value))
            else:
                row.value = value

    @property
    def fiscal_year_start_month(self) -> int:
        """Month (1–12) in which the fiscal year starts (default 4, April)."""
        return int(self.setting("fiscal_year_start_month"))

    def fiscal_year_of(self, day: dt.date) -> int:
        """The fiscal year a date falls in, named by the calendar year in which it *ends*
        (UK convention: FY2026 = April 2025 – March 2026 when the year starts in April)."""
        start = self.fiscal_year_start_month
        if start == 1:
            return day.year
        return day.year + 1 if day.month >= start else day.year

    def is_empty(self) -> bool:
        """True when no Core P3M data is stored yet (settings and batches do not count)."""
        from bigov.org.models import OrgUnit
        from bigov.work.models import WorkItem

        with self.session() as s:
            for model in (WorkItem, OrgUnit):
                if s.scalar(select(func.count()).select_from(model)):
                    return False
        return True

    # -- services ----------------------------------------------------------------------------
    @cached_property
    def org(self) -> OrgService:
        from bigov.org.service import OrgService

        return OrgService(self)

    @cached_property
    def strategy(self) -> StrategyService:
        from bigov.strategy.service import StrategyService

        return StrategyService(self)

    @cached_property
    def work(self) -> WorkService:
        from bigov.work.service import WorkService

        return WorkService(self)

    @cached_property
    def benefits(self) -> BenefitService:
        from bigov.benefits.service import BenefitService

        return BenefitService(self)

    @cached_property
    def finance(self) -> FinanceService:
        from bigov.finance.service import FinanceService

        return FinanceService(self)

    @cached_property
    def resources(self) -> ResourceService:
        from bigov.resources.service import ResourceService

        return ResourceService(self)

    @cached_property
    def raid(self) -> RaidService:
        from bigov.raid.service import RaidService

        return RaidService(self)

    @cached_property
    def metrics(self) -> MetricsService:
        from bigov.metrics.service import MetricsService

        return MetricsService(self)

    @cached_property
    def portfolio(self) -> PortfolioService:
        from bigov.portfolio.service import PortfolioService

        return PortfolioService(self)

    @cached_property
    def governance(self) -> GovernanceService:
        from bigov.governance.service import GovernanceService

        return GovernanceService(self)

    @cached_property
    def settings(self) -> SettingsService:
        """The user-facing settings, checked (``bigov settings``)."""
        from bigov.ops.settings import SettingsService

        return SettingsService(self)

    @cached_property
    def jobs(self) -> JobService:
        from bigov.jobs.service import JobService

        return JobService(self)

    @cached_property
    def datacall(self) -> DataCallService:
        from bigov.datacall.service import DataCallService

        return DataCallService(self)


def _safe_ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise DatabaseError(f"invalid schema name {name!r}", hint="use letters, digits and _")
    return name


def _first_line(err: BaseException | None) -> str:
    return str(err).strip().splitlines()[0] if err and str(err).strip() else "connection failed"


__all__ = ["SQLAlchemyError", "Workspace"]
