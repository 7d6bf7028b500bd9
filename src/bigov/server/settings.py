"""Server settings: from arguments, or from ``BIGOV_*`` environment variables so that every
worker process started by uvicorn reads the same values."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

ENV_PREFIX = "BIGOV_SERVER_"


class OidcSettings(BaseModel):
    """OpenID Connect provider (Entra ID, Okta, Keycloak): its discovery URL and client."""

    metadata_url: str
    client_id: str
    client_secret: str
    # the claim naming the user; a user with that email must exist (roles stay local)
    email_claim: str = "email"


class ServerSettings(BaseModel):
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # signs session cookies; None: a random key kept in the workspace, shared by every process
    secret_key: str | None = None
    session_hours: int = 12
    lockout_failures: int = 5
    lockout_minutes: int = 15
    # request bodies above this are refused with 413 before they are read (documented limit)
    max_body_bytes: int = 10 * 1024 * 1024
    page_limit_max: int = 500
    # seconds uvicorn waits for requests in flight on SIGTERM/SIGINT before closing them
    graceful_timeout: int = 10
    # adds an X-Query-Count header (statements run by the request); for benchmarks and tests
    count_queries: bool = False
    oidc: OidcSettings | None = None

    @classmethod
    def from_env(cls) -> ServerSettings:
        """Settings as ``bigov serve`` hands them to its worker processes."""
        env = os.environ
        values: dict[str, object] = {"db_url": env.get("BIGOV_DB")}
        for name in ("host", "port", "workers", "secret_key", "max_body_bytes", "count_queries"):
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None:
                values[name] = raw
        if env.get("BIGOV_OIDC_METADATA_URL"):
            values["oidc"] = OidcSettings(
                metadata_url=env["BIGOV_OIDC_METADATA_URL"],
                client_id=env.get("BIGOV_OIDC_CLIENT_ID", ""),
                client_secret=env.get("BIGOV_OIDC_CLIENT_SECRET", ""),
            )
        return cls.model_validate(values)
