"""Users, sign-in, API tokens and the audit trail. Functions take a Session so the CLI and the
server share them; the server's request handlers call them inside the request's unit of work."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.auth.models import ApiToken, AppUser, AuditEvent, UserRole, UserScope
from bigov.db.base import utcnow
from bigov.errors import ConflictError, NotFoundError, ValidationError
from bigov.governance.models import GovernanceNode
from bigov.org.models import OrgUnit

# argon2id with the library's defaults (RFC 9106 low-memory profile): tuned by people who know
_HASHER = PasswordHasher()
# a hash to verify against when the email is unknown, so both paths cost the same time
_DUMMY_HASH = _HASHER.hash("bigov-no-such-user")
TOKEN_PREFIX = "bgv_"
EMAIL = re.compile(r"^[^@\s]{1,128}@[^@\s]{1,128}$")
MIN_PASSWORD = 10


class SignInError(Exception):
    """Sign-in refused; ``locked`` tells the caller to answer 429 rather than 401."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


@dataclass(frozen=True)
class Principal:
    """The signed-in user as a request sees them."""

    id: int
    email: str
    role: UserRole
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    node_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        return self.role in (UserRole.ADMIN, UserRole.PMO)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def hash_token(secret: str) -> str:
    """SHA-256 is enough for a 256-bit random secret (no dictionary to guard against)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def add_user(
    s: Session,
    email: str,
    role: str,
    *,
    password: str | None,
    units: list[str] | tuple[str, ...] = (),
    nodes: list[str] | tuple[str, ...] = (),
) -> AppUser:
    """Create a user (ConflictError if the email exists; ValidationError for a bad role, email,
    short password or unknown unit/node code, naming which)."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise ValidationError(f"email {email!r}: not an email address")
    try:
        user_role = UserRole(role)
    except ValueError:
        allowed = ", ".join(r.value for r in UserRole)
        raise ValidationError(f"role {role!r}: not one of {allowed}") from None
    if password is not None and len(password) < MIN_PASSWORD:
        raise ValidationError(f"password: shorter than {MIN_PASSWORD} characters")
    if s.scalar(select(AppUser.id).where(AppUser.email == email)) is not None:
        raise ConflictError(f"user {email} already exists")
    unit_ids = _ids(s, OrgUnit, units, "unit")
    node_ids = _ids(s, GovernanceNode, nodes, "node")
    user = AppUser(
        email=email,
        role=user_role,
        password_hash=hash_password(password) if password is not None else None,
        disabled=False,
        failed_logins=0,
    )
    s.add(user)
    s.flush()
    s.add_all(UserScope(user_id=user.id, org_unit_id=u) for u in unit_ids)
    s.add_all(UserScope(user_id=user.id, node_id=n) for n in node_ids)
    return user


def _ids(
    s: Session, model: type[OrgUnit] | type[GovernanceNode], codes: Any, what: str
) -> list[int]:
    codes = list(dict.fromkeys(codes))
    if not codes:
        return []
    found = dict(s.execute(select(model.code, model.id).where(model.code.in_(codes))).all())
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(f"--{what} {missing[0]!r}: no such {what} code")
    return [found[c] for c in codes]


def get_user(s: Session, email: str) -> AppUser:
    user = s.scalar(select(AppUser).where(AppUser.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user {email}")
    return user


def list_users(s: Session) -> list[dict[str, Any]]:
    """Every user with their scope codes, by email (two queries)."""
    scopes: dict[int, dict[str, list[str]]] = {}
    rows = s.execute(
        select(UserScope.user_id, OrgUnit.code, GovernanceNode.code)
        .outerjoin(OrgUnit, OrgUnit.id == UserScope.org_unit_id)
        .outerjoin(GovernanceNode, GovernanceNode.id == UserScope.node_id)
    )
    for uid, unit, node in rows:
        entry = scopes.setdefault(uid, {"units": [], "nodes": []})
        if unit:
            entry["units"].append(unit)
        if node:
            entry["nodes"].append(node)
    return [
        {
            "email": u.email,
            "role": u.role.value,
            "disabled": u.disabled,
            "locked_until": u.locked_until.isoformat() if u.locked_until else None,
            "units": sorted(scopes.get(u.id, {}).get("units", [])),
            "nodes": sorted(scopes.get(u.id, {}).get("nodes", [])),
        }
        for u in s.scalars(select(AppUser).order_by(AppUser.email))
    ]


def disable_user(s: Session, email: str) -> None:
    """Disable a user: their sessions and tokens stop working at the next request."""
    get_user(s, email).disabled = True


def create_token(
    s: Session, email: str, *, name: str = "api", expires_days: int | None = None
) -> str:
    """A new API token for ``email``; the secret is returned once and only its hash is kept."""
    user = get_user(s, email)
    if user.disabled:
        raise ConflictError(f"user {email} is disabled")
    if expires_days is not None and expires_days < 1:
        raise ValidationError(f"--expires {expires_days}: must be at least 1 day")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=expires_days) if expires_days else None
    s.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), expires_at=expires))
    return secret


def revoke_tokens(s: Session, email: str, *, name: str | None = None) -> int:
    """Revoke the user's live tokens (those called ``name`` only, when given); returns how many."""
    user = get_user(s, email)
    q = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if name is not None:
        q = q.where(ApiToken.name == name)
    tokens = list(s.scalars(q))
    for t in tokens:
        t.revoked_at = utcnow()
    return len(tokens)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands timezone-aware columns back naive; they were stored as UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def principal_for_token(s: Session, secret: str) -> Principal | None:
    """The user a bearer token belongs to, or None (unknown, expired, revoked, disabled).

    One statement: the token, its user and the user's scope rows (outer join), because it
    runs on every API request."""
    rows = s.execute(
        select(
            AppUser.id,
            AppUser.email,
            AppUser.role,
            AppUser.disabled,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            UserScope.org_unit_id,
            UserScope.node_id,
        )
        .join(ApiToken, ApiToken.user_id == AppUser.id)
        .outerjoin(UserScope, UserScope.user_id == AppUser.id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).all()
    if not rows:
        return None
    first = rows[0]
    expires = _aware(first.expires_at)
    if first.revoked_at is not None or first.disabled:
        return None
    if expires is not None and expires <= utcnow():
        return None
    units = frozenset(r.org_unit_id for r in rows if r.org_unit_id is not None)
    nodes = frozenset(r.node_id for r in rows if r.node_id is not None)
    return Principal(first.id, first.email, first.role, units, nodes)


def principal_for_user(s: Session, user_id: int) -> Principal | None:
    user = s.get(AppUser, user_id)
    if user is None or user.disabled:
        return None
    return _principal(s, user)


def _principal(s: Session, user: AppUser) -> Principal:
    units: set[int] = set()
    nodes: set[int] = set()
    for unit, node in s.execute(
        select(UserScope.org_unit_id, UserScope.node_id).where(UserScope.user_id == user.id)
    ):
        if unit is not None:
            units.add(unit)
        if node is not None:
            nodes.add(node)
    return Principal(user.id, user.email, user.role, frozenset(units), frozenset(nodes))


def sign_in(
    s: Session, email: str, password: str, *, max_failures: int, lock_minutes: int
) -> AppUser:
    """Check a password. After ``max_failures`` wrong passwords in a row the account is locked
    for ``lock_minutes``; the caller must commit even when this raises, so failures count."""
    user = s.scalar(select(AppUser).where(AppUser.email == email.strip().lower()))
    if user is None or user.password_hash is None or user.disabled:
        _verify(_DUMMY_HASH, password)
        raise SignInError("wrong email or password")
    now = utcnow()
    locked = _aware(user.locked_until)
    if locked is not None and locked > now:
        raise SignInError("account locked after repeated failed sign-ins; try later", locked=True)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            raise SignInError(
                "account locked after repeated failed sign-ins; try later", locked=True
            )
        raise SignInError("wrong email or password")
    user.failed_logins = 0
    user.locked_until = None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def record(
    s: Session,
    *,
    who: str,
    ip: str | None,
    action: str,
    kind: str,
    code: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add one audit row in the caller's transaction, so the write and its record commit
    together (or neither does)."""
    s.add(
        AuditEvent(
            at=utcnow(),
            user_email=who,
            client_ip=ip,
            action=action,
            entity_kind=kind,
            entity_code=code,
            before=before,
            after=after,
        )
    )


def audit_rows(
    s: Session, *, entity: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Audit events, newest first; ``entity`` filters by code (exact, never a pattern)."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity is not None:
        q = q.where(AuditEvent.entity_code == entity)
    if before_id is not None:
        q = q.where(AuditEvent.id < before_id)
    return [
        {
            "id": e.id,
            "at": _aware(e.at).isoformat() if e.at else None,  # type: ignore[union-attr]
            "user": e.user_email,
            "client_ip": e.client_ip,
            "action": e.action,
            "entity_kind": e.entity_kind,
            "entity_code": e.entity_code,
            "before": e.before,
            "after": e.after,
        }
        for e in s.scalars(q)
    ]
