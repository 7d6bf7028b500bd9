"""Sign-in, tokens, sessions, CSRF and lock-out, on the real app and database."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bigov.auth.models import ApiToken, AppUser
from bigov.auth.service import create_token, disable_user, revoke_tokens
from tests.server.conftest import PASSWORD, Org

ITEMS = "/api/v1/work-items"


def test_no_or_bad_credentials_get_401(org: Org) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YTpi"}):
        got = org.client.get(ITEMS, headers=headers)
        assert got.status_code == 401
        assert got.headers["content-type"] == "application/problem+json"
        assert got.headers["www-authenticate"].startswith("Bearer")
        assert got.json()["status"] == 401
    assert org.client.get("/healthz").json() == {"status": "ok"}


def test_expired_and_revoked_tokens_are_refused(org: Org) -> None:
    with org.ws.session() as s:
        short = create_token(s, "viewer@example.org", name="short", expires_days=1)
    assert org.client.get(ITEMS, headers={"Authorization": f"Bearer {short}"}).status_code == 200
    with org.ws.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.name == "short")
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert org.client.get(ITEMS, headers={"Authorization": f"Bearer {short}"}).status_code == 401
    assert org.client.get(ITEMS, headers=org.auth("viewer")).status_code == 200
    with org.ws.session() as s:
        assert revoke_tokens(s, "viewer@example.org", name="test") == 1
    assert org.client.get(ITEMS, headers=org.auth("viewer")).status_code == 401
    # only a hash is stored: the secret appears nowhere in the table
    with org.ws.session() as s:
        hashes = s.scalars(select(ApiToken.token_hash)).all()
    assert org.tokens["viewer"] not in hashes and all(len(h) == 64 for h in hashes)


def test_disabled_user_loses_tokens_and_sessions(org: Org) -> None:
    signed = org.client.post(
        "/api/v1/session", json={"email": "pmo@example.org", "password": PASSWORD}
    )
    assert signed.status_code == 200
    with org.ws.session() as s:
        disable_user(s, "pmo@example.org")
    assert org.client.get(ITEMS, headers=org.auth("pmo")).status_code == 401
    assert org.client.get(ITEMS).status_code == 401  # the cookie no longer works either


def test_lock_out_after_repeated_failures(org: Org) -> None:
    wrong = {"email": "mgr@example.org", "password": "not the password"}
    for _ in range(4):
        assert org.client.post("/api/v1/session", json=wrong).status_code == 401
    assert org.client.post("/api/v1/session", json=wrong).status_code == 429
    right = {"email": "mgr@example.org", "password": PASSWORD}
    locked = org.client.post("/api/v1/session", json=right)
    assert locked.status_code == 429 and "locked" in locked.json()["detail"]
    # after the lock has passed the right password works again and resets the count
    with org.ws.session() as s:
        s.execute(
            update(AppUser)
            .where(AppUser.email == "mgr@example.org")
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert org.client.post("/api/v1/session", json=right).status_code == 200
    with org.ws.session() as s:
        assert (
            s.scalar(select(AppUser.failed_logins).where(AppUser.email == "mgr@example.org")) == 0
        )
    # an unknown user answers exactly like a wrong password
    unknown = org.client.post("/api/v1/session", json={"email": "x@y.z", "password": "p"})
    assert unknown.status_code == 401 and unknown.json()["detail"] == "wrong email or password"


def test_cookie_session_flags_and_csrf(org: Org) -> None:
    signed = org.client.post(
        "/api/v1/session", json={"email": "admin@example.org", "password": PASSWORD}
    )
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    csrf = signed.json()["csrf_token"]
    assert org.client.get(f"{ITEMS}/PG-A").status_code == 200
    etag = org.client.get(f"{ITEMS}/PG-A").headers["etag"]
    body = {"name": "Programme A", "kind": "programme", "org_unit": "U-A"}
    no_token = org.client.put(f"{ITEMS}/PG-A", json=body, headers={"If-Match": etag})
    assert no_token.status_code == 403 and "CSRF" in no_token.json()["detail"]
    bad = org.client.put(
        f"{ITEMS}/PG-A", json=body, headers={"If-Match": etag, "X-CSRF-Token": "x"}
    )
    assert bad.status_code == 403
    ok = org.client.put(
        f"{ITEMS}/PG-A", json=body, headers={"If-Match": etag, "X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200
    assert org.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204


def test_cookie_is_secure_over_https(org: Org) -> None:
    with TestClient(org.client.app, base_url="https://testserver") as https:
        signed = https.post(
            "/api/v1/session", json={"email": "admin@example.org", "password": PASSWORD}
        )
    assert "secure" in signed.headers["set-cookie"].lower()


def test_sign_in_form_needs_its_csrf_token(org: Org) -> None:
    form = {"email": "admin@example.org", "password": PASSWORD, "csrf_token": "forged"}
    assert org.client.post("/auth/login", data=form, follow_redirects=False).status_code == 403
    page = org.client.get("/auth/login")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    forged = org.client.post("/auth/login", data=form, follow_redirects=False)
    assert forged.status_code == 403
    good = org.client.post(
        "/auth/login", data={**form, "csrf_token": token}, follow_redirects=False
    )
    assert good.status_code == 303
    assert org.client.get("/api/v1/me").json()["email"] == "admin@example.org"


def test_oidc_is_configured_from_settings(org: Org) -> None:
    from bigov.errors import ConfigError
    from bigov.server import ServerSettings, create_app
    from bigov.server.settings import OidcSettings

    # not configured: the routes answer 404
    assert org.client.get("/auth/oidc/login", follow_redirects=False).status_code == 404
    oidc = OidcSettings(
        metadata_url="https://login.example.invalid/.well-known/openid-configuration",
        client_id="bigov",
        client_secret="s",
    )
    with pytest.raises(ConfigError, match="BIGOV_SERVER_SECRET_KEY"):
        create_app(ServerSettings(oidc=oidc), org.ws)
    app = create_app(ServerSettings(oidc=oidc, secret_key="k"), org.ws)
    with TestClient(app):
        assert app.state.oidc.oidc.client_id == "bigov"  # Authlib's registered client
