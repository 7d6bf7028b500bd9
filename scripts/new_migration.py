"""Generate an Alembic migration from the models: ``python scripts/new_migration.py "message"``.

Builds a throw-away SQLite database at the current head, autogenerates the difference, and names
the file ``NNNN_slug.py`` with revision id ``NNNN`` so history reads in order.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from bigov.db.migrate import MIGRATIONS_DIR, alembic_config


def main() -> None:
    message = " ".join(sys.argv[1:]) or "update"
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    number = f"{int(head) + 1:04d}" if head and head.isdigit() else "0001"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'gen.db'}")
        with engine.begin() as conn:
            cfg = alembic_config(conn)
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True, rev_id=number)
        engine.dispose()
    generated = next(MIGRATIONS_DIR.joinpath("versions").glob(f"{number}_*.py"))
    target = generated.with_name(f"{number}_{slug}.py")
    generated.rename(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
