"""What every context service shares: access to the workspace and look-ups by common code."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bigov.db.base import Entity
from bigov.errors import NotFoundError

if TYPE_CHECKING:
    from bigov.workspace import Workspace

E = TypeVar("E", bound=Entity)


class Service:
    """Base of the context services handed out by :class:`bigov.workspace.Workspace`."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws


def get_by_code(session: Session, model: type[E], code: str) -> E:
    """The row of ``model`` with this common reference code.

    Raises:
        NotFoundError: no such code (the message names the kind and the code).
    """
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        kind = model.__tablename__.replace("_", " ")
        raise NotFoundError(f"no {kind} with code {code!r}")
    return row


def find_by_code(session: Session, model: type[E], code: str | None) -> E | None:
    """Like :func:`get_by_code` but None for a missing or empty code."""
    if not code:
        return None
    return session.scalar(select(model).where(model.code == code))


def code_to_id(session: Session, model: type[Entity]) -> dict[str, int]:
    """All codes of a kind mapped to their ids, in one query (for bulk resolution of references)."""
    return {c: i for c, i in session.execute(select(model.code, model.id))}  # noqa: C416


def count(session: Session, model: type[Entity]) -> int:
    """Number of rows of a kind."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
