"""What every outside-system service shares: its database, refusals as JSON, the health route."""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from domain.reasons import DomainError, Reason
from store.stub_tables import create_stub_tables, sqlite_engine

log = logging.getLogger("eproc.stub_service")

# HTTP status of a refusal; the client reads the reason code, the status is for people and proxies.
_STATUS = {Reason.NOT_FOUND: 404, Reason.DUPLICATE_PAYMENT: 409, Reason.INVALID_INPUT: 422,
           Reason.FIELD_MISSING: 422, Reason.STORE_UNREACHABLE: 503, Reason.INTERNAL_ERROR: 500}


def service_database(path: str | Path) -> Engine:
    """The service's own SQLite file (WAL), with the stubs' `ext_` tables created."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sqlite_engine(path)
    create_stub_tables(engine)
    return engine


def refusal(reason: Reason, detail: str) -> JSONResponse:
    err = DomainError(reason, detail)
    return JSONResponse({"reason": reason.value, "message_fa": err.message_fa, "detail": detail or None},
                        status_code=_STATUS.get(reason, 400))


def service_app(title: str) -> FastAPI:
    """A FastAPI app whose refusals are `{reason, message_fa, detail}` (as the transactions API's) and
    which answers `GET /v1/health`."""
    app = FastAPI(title=title)

    @app.exception_handler(DomainError)
    def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return refusal(exc.reason, exc.detail)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return refusal(Reason.INVALID_INPUT, "; ".join(str(e.get("msg")) for e in exc.errors())[:500])

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return refusal(Reason.INTERNAL_ERROR, type(exc).__name__)

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
