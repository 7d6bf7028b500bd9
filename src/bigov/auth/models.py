"""Who may use the server: users (local password or OpenID Connect), what they are scoped to,
their API tokens (only a hash is stored) and the audit trail of every write made through it."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base, enum_type, id_fk


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    PMO = "pmo"
    BOARD_MEMBER = "board_member"
    MANAGER = "manager"
    BENEFIT_OWNER = "benefit_owner"
    VIEWER = "viewer"


class AppUser(AuditMixin, Base):
    """A person who signs in. ``email`` links them to a :class:`~bigov.org.models.Person` (owner
    of items and benefits) without a foreign key, so a user may exist before the person is
    loaded from HR."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    email: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    role: Mapped[UserRole] = mapped_column(enum_type(UserRole))
    # None for users who only sign in through OpenID Connect
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserScope(Base):
    """One org unit (with the units below it) or governance node a user is scoped to."""

    __tablename__ = "app_user_scope"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    user_id: Mapped[int] = id_fk("app_user.id", nullable=False, ondelete="CASCADE")
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id", ondelete="CASCADE")
    node_id: Mapped[int | None] = id_fk("governance_node.id", ondelete="CASCADE")


class ApiToken(AuditMixin, Base):
    """A bearer token; ``token_hash`` is the SHA-256 of the secret, which is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    user_id: Mapped[int] = id_fk("app_user.id", nullable=False, ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEvent(Base):
    """One write through the server: who, when, from where, which entity, before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_email: Mapped[str] = mapped_column(String(255))
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32))  # create | update | sign-in ...
    entity_kind: Mapped[str] = mapped_column(String(64))
    entity_code: Mapped[str] = mapped_column(String(128), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
