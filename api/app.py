"""The transactions system (سامانهٔ جامع معاملات) as an HTTP API: `create_app(deps)` builds the
FastAPI application of one dependency container (eproc.wiring.production() in `eproc serve`, a
pilot world or a fixture elsewhere).

- every path is versioned under /v1; the OpenAPI document is /openapi.json, Persian and English;
- refusals are JSON {reason, message_fa, detail} with the status of api.errors.STATUS, never a
  traceback; request bodies are limited (api.streaming.BodyLimit) and uploads streamed;
- the routers are the modules of `ROUTERS`, each an `APIRouter` named `router`.
"""
from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, FastAPI

from api.errors import CatchAll, register_error_handlers
from api.streaming import BodyLimit
from config.settings import Settings, get_settings
from services.deps import Deps

TITLE = "سامانهٔ جامع معاملات شهرداری تهران — Tehran municipality transactions system"
DESCRIPTION = (
    "رابط برنامه‌نویسی سامانهٔ جامع معاملات: هر کس از جایگاه خود و با توکن خود اقدام می‌کند. ورود با امضای "
    "چالش روی توکن شخص (`/v1/auth`)؛ هر درخواستی که چیزی را تغییر می‌دهد خود سندی امضاشده با توکن است و در "
    "زمان دریافت سنجیده می‌شود. سامانه‌های دیگر داده را از همین‌جا می‌خوانند و دوباره وارد نمی‌کنند (R28). "
    "خطاها JSON به شکل `{reason, message_fa, detail}` با رمز دلیل پایدارند.\n\n"
    "The API of the Tehran municipality transactions system: every party acts from its own station with "
    "its own token. Log in by signing a challenge on the person's token (`/v1/auth`); every state-changing "
    "request is itself a document signed on the actor's token and verified at receipt. Other systems read "
    "the data from here rather than typing it again (R28). Errors are JSON `{reason, message_fa, detail}` "
    "with a stable reason code."
)
TAGS = [
    {"name": "system / سامانه", "description": "وضعیت سرویس — service status"},
    {"name": "authentication / احراز هویت",
     "description": "ورود با امضای توکن و نشست کوتاه‌مدت — login by token signature, short-lived sessions"},
]
# Every router of the API, by module; a module another part of issue 11 has not delivered yet is
# left out explicitly (find_spec), never by swallowing an ImportError.
ROUTERS = (
    "api.routers.auth",
    "api.routers.publication",
    "api.routers.pricelists",
    "api.routers.tenders",
    "api.routers.minutes",
    "api.routers.sessions",
    "api.routers.contracts",
    "api.routers.auctions",
    "api.routers.fetch",
    "api.routers.support",
)

meta = APIRouter(prefix="/v1", tags=["system / سامانه"])


@meta.get("/health", summary="سلامت سرویس — Health",
          description="پاسخ `{\"status\": \"ok\"}` یعنی فرایند سرویس بالا است.\n\n"
                      "`{\"status\": \"ok\"}` means the API process is up.")
def health() -> dict[str, str]:
    return {"status": "ok"}


def package_version() -> str:
    """The installed eproc version (pyproject.toml), or 0+unknown when run from an uninstalled tree."""
    try:
        return version("eproc")
    except PackageNotFoundError:
        return "0+unknown"


def routers() -> list[APIRouter]:
    """The `router` of every module of `ROUTERS` that is present."""
    found = []
    for name in ROUTERS:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def create_app(deps: Deps, *, max_body_bytes: int | None = None, settings: Settings | None = None) -> FastAPI:
    """The API over `deps`: stored on `app.state.deps` (api.context.get_deps), error handlers, the body
    limit (`max_body_bytes`, else EPROC_API_MAX_BODY_BYTES, else the policy's `[limits] max_bid_bytes`),
    `settings` (default: the process's) for the session keys, the /v1 routers.

    Raises: nothing (the session key is read, or created under data_dir when EPROC_API_SECRET is
    unset, at the first login or authenticated request: api.security.session_keys)."""
    settings = settings or get_settings()
    limit = max_body_bytes or settings.api_max_body_bytes or deps.policy.limits.max_bid_bytes
    app = FastAPI(title=TITLE, description=DESCRIPTION, version=package_version(), openapi_tags=TAGS)
    app.state.deps = deps
    app.state.max_body_bytes = limit
    app.state.settings = settings  # api.security.session_keys reads the key on first use
    register_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=limit)
    app.add_middleware(CatchAll)  # added last: the outermost layer
    app.include_router(meta)
    for router in routers():
        app.include_router(router)
    return app
