"""Who is calling: the session token a person obtained by signing a challenge on their token
(api.routers.auth, services.auth), sent as `Authorization: Bearer <token>`.

Routes take the actor as a dependency:

    @router.post("/v1/pricelists")
    def import_price_list(actor: Annotated[Actor, Depends(require_role("deputy"))], ...): ...

`current_actor()` accepts any valid session; `current_actor("operator")` / `require_role("operator")`
also requires the role the session was opened for (the registry gave it for that unit and day at
login). A missing, forged or expired token is NOT_AUTHENTICATED (401), another role NOT_AUTHORISED
(403). The session alone never changes state: every state-changing request also carries a document
signed on the actor's token (api.signed.signed_request), which re-checks chain, CRL and role at receipt.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from api.context import get_deps
from config.settings import Settings
from domain.reasons import DomainError, Reason
from services.auth import SessionKeys, read_session_token

# Declares the scheme in the OpenAPI document; the token itself is read by `actor_of`.
bearer = HTTPBearer(auto_error=False, scheme_name="session",
                    description="توکن نشست از POST /v1/auth/session — the session token from POST /v1/auth/session")


@dataclass(frozen=True)
class Actor:
    """The person a request speaks for: national ID, the role and unit of their session, the
    session's id (jti) and when it expires (aware UTC)."""

    national_id: str
    role: str
    unit: str
    session_id: str = ""
    expires_at: datetime | None = None


def session_keys(request: Request) -> SessionKeys:
    """The app's session keys, made from the settings api.app.create_app stored on first use (so an
    app that never authenticates anyone never creates a key file).

    Raises: OSError when the key file under data_dir cannot be read or created."""
    state = request.app.state
    keys: SessionKeys | None = getattr(state, "session_keys", None)
    if keys is None:
        settings: Settings = state.settings
        keys = SessionKeys(settings.session_secret(), timedelta(minutes=settings.api_session_minutes),
                           timedelta(seconds=settings.api_challenge_seconds))
        state.session_keys = keys
    return keys


def actor_of(request: Request) -> Actor:
    """The actor of the request's bearer token, judged at the engine's clock (cached on
    `request.state.actor` for the rest of the request).

    Raises: NOT_AUTHENTICATED (no bearer token, forged, malformed or expired)."""
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token:
        raise DomainError(Reason.NOT_AUTHENTICATED, "سرایند Authorization: Bearer همراه درخواست نیست")
    claims = read_session_token(session_keys(request), token, get_deps(request).clock.now())
    actor = Actor(claims.national_id, claims.role, claims.unit, claims.session_id, claims.expires_at)
    request.state.actor = actor
    return actor


def current_actor(required_role: str | Collection[str] | None = None) -> Callable[..., Actor]:
    """A dependency giving the request's Actor; with `required_role` (one role or several) the
    session's role must be one of them.

    Raises (from the dependency): NOT_AUTHENTICATED; NOT_AUTHORISED (another role)."""
    roles = {required_role} if isinstance(required_role, str) else set(required_role or ())

    def dependency(request: Request,
                   _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
        actor = actor_of(request)
        if roles and actor.role not in roles:
            raise DomainError(Reason.NOT_AUTHORISED, f"این اقدام سمت {'، '.join(sorted(roles))} می‌خواهد؛ "
                                                     f"نشست با سمت {actor.role} در {actor.unit} است")
        return actor

    return dependency


def require_role(role: str, *more: str) -> Callable[..., Actor]:
    """`current_actor({role, *more})`: the dependency of a route only those roles may use."""
    return current_actor({role, *more})
