"""key result window and aggregation (measure semantics)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WINDOW = sa.Enum("period", "ytd", "r12", name="krwindow", native_enum=False, length=32)
_AGGREGATION = sa.Enum("flow", "level", name="aggregation", native_enum=False, length=32)


def upgrade() -> None:
    # existing key results keep their meaning (the latest value): window "period" for every row
    with op.batch_alter_table("key_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window", _WINDOW, server_default="period", nullable=False))
        batch_op.add_column(sa.Column("aggregation", _AGGREGATION, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("key_result", schema=None) as batch_op:
        batch_op.drop_column("aggregation")
        batch_op.drop_column("window")
