"""data version, kept analysis answers, and the reporting views for BI tools

The reporting views are a stable contract (docs/reporting-views.md): on PostgreSQL they live in
their own schema — ``bigov_report`` for a workspace in ``public``, ``<schema>_report`` for one
kept in a schema of its own — and on SQLite they are views named ``bigov_report_<name>``. A
later change to a view's columns is a new migration that only adds columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("work", "cost_by_month", "benefits_by_period", "status", "exceptions", "figures")

# each item's latest status report (its greatest period), portable SQL
_LATEST = """
    SELECT r.work_item_id, r.period, r.confidence, r.overall
    FROM status_report r
    JOIN (SELECT work_item_id, MAX(period) AS period FROM status_report
          GROUP BY work_item_id) m
      ON m.work_item_id = r.work_item_id AND m.period = r.period
"""

BODIES = {
    "work": f"""
SELECT w.code AS code, w.name AS name, w.kind AS kind, w.nature AS nature,
       w.category AS category, w.phase AS phase,
       p.code AS parent_code, o.code AS owner_code, o.name AS owner_name,
       u.code AS org_unit_code, u.name AS org_unit_name, g.code AS governing_node_code,
       w.baseline_start AS baseline_start, w.baseline_finish AS baseline_finish,
       w.forecast_start AS forecast_start, w.forecast_finish AS forecast_finish,
       w.actual_start AS actual_start, w.actual_finish AS actual_finish,
       w.percent_complete AS percent_complete, w.whole_life_cost AS whole_life_cost,
       l.period AS status_period, l.confidence AS status_confidence,
       l.overall AS status_overall, w.updated_at AS updated_at
FROM work_item w
LEFT JOIN work_item p ON p.id = w.parent_id
LEFT JOIN person o ON o.id = w.owner_id
LEFT JOIN org_unit u ON u.id = w.org_unit_id
LEFT JOIN governance_node g ON g.id = w.governing_node_id
LEFT JOIN ({_LATEST}) l ON l.work_item_id = w.id
""",
    "cost_by_month": """
SELECT w.code AS work_item_code, w.nature AS nature, w.category AS category,
       u.code AS org_unit_code, c.period AS period, c.currency AS currency,
       SUM(c.budget) AS budget, SUM(c.forecast) AS forecast, SUM(c.actual) AS actual,
       COUNT(*) AS cost_lines
FROM cost_line c
JOIN work_item w ON w.id = c.work_item_id
LEFT JOIN org_unit u ON u.id = w.org_unit_id
GROUP BY w.code, w.nature, w.category, u.code, c.period, c.currency
""",
    "benefits_by_period": """
SELECT b.code AS benefit_code, b.name AS benefit_name, b.kind AS kind,
       b.category AS category, b.status AS status, o.code AS owner_code,
       u.code AS owner_unit_code, bp.period AS period,
       bp.planned AS planned, bp.forecast AS forecast, bp.actual AS actual,
       COALESCE(bp.currency, b.currency) AS currency, b.unit AS unit
FROM benefit_profile bp
JOIN benefit b ON b.id = bp.benefit_id
LEFT JOIN person o ON o.id = b.owner_id
LEFT JOIN org_unit u ON u.id = b.owner_unit_id
""",
    "status": f"""
SELECT w.code AS work_item_code, r.period AS period, r.confidence AS confidence,
       r.overall AS overall, r.schedule AS schedule, r.cost AS cost, r.scope AS scope,
       r.benefits AS benefits, r.risk AS risk, r.resources AS resources,
       r.reported_on AS reported_on, r.narrative AS narrative,
       CASE WHEN l.work_item_id IS NULL THEN 0 ELSE 1 END AS is_latest
FROM status_report r
JOIN work_item w ON w.id = r.work_item_id
LEFT JOIN ({_LATEST}) l ON l.work_item_id = r.work_item_id AND l.period = r.period
""",
    "exceptions": """
SELECT x.code AS code, x.key AS breach_key, x.period AS period, x.rule AS rule,
       x.dimension AS dimension, x.subject_kind AS subject_kind,
       x.subject_code AS subject_code, w.code AS work_item_code, x.title AS title,
       x.value AS value, x."limit" AS limit_value, og.code AS origin_node_code,
       ow.code AS owner_node_code, CASE WHEN x.escalated THEN 1 ELSE 0 END AS escalated,
       x.status AS status, x.first_period AS first_period, x.at_stake AS at_stake
FROM cycle_exception x
LEFT JOIN work_item w ON w.id = x.work_item_id
JOIN governance_node og ON og.id = x.origin_node_id
JOIN governance_node ow ON ow.id = x.owner_node_id
""",
}

_FIGURES_FROM = """
FROM gov_cycle c
JOIN governance_node n ON n.id = c.node_id
JOIN cycle_snapshot s ON s.cycle_id = c.id
"""
FIGURES_PG = f"""
SELECT c.code AS cycle_code, n.code AS node_code, c.period AS period, c.version AS version,
       c.status AS status, c.as_at AS as_at, f.key AS figure_key, f.value AS value_text,
       CASE WHEN f.value ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN CAST(f.value AS NUMERIC) END
         AS value_number
{_FIGURES_FROM}
CROSS JOIN LATERAL json_each_text(CAST(s.document AS json) -> 'governed') AS f(key, value)
"""
FIGURES_SQLITE = f"""
SELECT c.code AS cycle_code, n.code AS node_code, c.period AS period, c.version AS version,
       c.status AS status, c.as_at AS as_at, f.key AS figure_key,
       CAST(f.value AS TEXT) AS value_text,
       CASE WHEN f.type IN ('integer', 'real') THEN f.value
            WHEN f.type = 'text' AND f.value GLOB '*[0-9]*'
                 AND f.value NOT GLOB '*[^0-9.-]*' THEN CAST(f.value AS NUMERIC) END
         AS value_number
{_FIGURES_FROM}
JOIN json_each(s.document, '$.governed') AS f
"""


def report_schema(bind: sa.Connection) -> str:
    """Where the views go on PostgreSQL: ``bigov_report`` beside a workspace in ``public``,
    ``<schema>_report`` beside one kept in a schema of its own."""
    current = str(bind.execute(sa.text("SELECT current_schema()")).scalar())
    return "bigov_report" if current == "public" else f"{current}_report"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute(
        "INSERT INTO data_version (id, version, changed_at) VALUES (1, 1, CURRENT_TIMESTAMP)"
    )
    op.create_table(
        "analysis_answer",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compute_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "data_version", name=op.f("pk_analysis_answer")),
    )
    with op.batch_alter_table("analysis_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analysis_answer_question"), ["question"], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = _quote(report_schema(bind))
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name, body in {**BODIES, "figures": FIGURES_PG}.items():
            op.execute(f"CREATE OR REPLACE VIEW {schema}.{_quote(name)} AS {body}")
    else:
        for name, body in {**BODIES, "figures": FIGURES_SQLITE}.items():
            op.execute(f"DROP VIEW IF EXISTS bigov_report_{name}")
            op.execute(f"CREATE VIEW bigov_report_{name} AS {body}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = _quote(report_schema(bind))
        for name in VIEWS:
            op.execute(f"DROP VIEW IF EXISTS {schema}.{_quote(name)}")
    else:
        for name in VIEWS:
            op.execute(f"DROP VIEW IF EXISTS bigov_report_{name}")
    with op.batch_alter_table("analysis_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analysis_answer_question"))
    op.drop_table("analysis_answer")
    op.drop_table("data_version")
