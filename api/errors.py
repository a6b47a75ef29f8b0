"""Every refusal of the API is one JSON shape with an HTTP status chosen by its reason code:

    {"reason": "LATE_SUBMISSION", "message_fa": "پیشنهاد پس از مهلت ارسال رسیده است. (...)", "detail": "..."}

`reason` is a stable code of domain.reasons (../shared/spec/reason-codes.md), `message_fa` the Persian
sentence for people (with the detail in parentheses, as the CLI prints it), `detail` the specific
part alone (or null). Never a traceback: an unexpected exception is logged with its traceback on the
server and answered 500 INTERNAL_ERROR.

`STATUS` is the one table of reason -> HTTP status; a reason not in it is 400.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.reasons import DomainError, Reason

log = logging.getLogger("eproc.api")

STATUS: dict[Reason, int] = {
    Reason.NOT_AUTHENTICATED: 401,
    Reason.NOT_AUTHORISED: 403,
    Reason.SIGNER_NOT_IN_ROLE: 403,
    Reason.NOT_FOUND: 404,
    Reason.UNKNOWN_UNIT: 404,
    Reason.LATE_SUBMISSION: 409,
    Reason.BID_NOT_OWNED: 409,
    Reason.DUPLICATE_BID: 409,
    Reason.DUPLICATE_PAYMENT: 409,
    Reason.AUCTION_CLOSED: 409,
    Reason.OFFER_TOO_LOW: 409,  # the auction moved on: refetch the best price and offer again
    Reason.MINUTES_FINAL: 409,
    Reason.WRONG_STAGE: 409,
    Reason.AMOUNT_OUT_OF_RANGE: 413,
    Reason.REQUEST_TOO_LARGE: 413,
    Reason.INVALID_INPUT: 422,
    Reason.FIELD_MISSING: 422,
    Reason.MALFORMED_XML: 400,
    Reason.INTERNAL_ERROR: 500,
    Reason.STORE_UNREACHABLE: 503,
}
DEFAULT_STATUS = 400
# Starlette's own refusals (unknown path, wrong method, ...) in the same shape.
_REASON_OF_STATUS = {401: Reason.NOT_AUTHENTICATED, 403: Reason.NOT_AUTHORISED, 404: Reason.NOT_FOUND,
                     413: Reason.REQUEST_TOO_LARGE}


def status_of(reason: Reason) -> int:
    """The HTTP status a refusal with `reason` is answered with (`STATUS`, else 400)."""
    return STATUS.get(reason, DEFAULT_STATUS)


def error_body(reason: Reason, detail: str | None = None) -> dict[str, Any]:
    """The JSON body of a refusal: reason code, Persian message (with the detail), detail."""
    message = reason.message_fa
    return {"reason": reason.value, "message_fa": f"{message} ({detail})" if detail else message,
            "detail": detail or None}


def error_response(reason: Reason, detail: str | None = None, status: int | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSONResponse of `error_body`, with the status of `reason` unless `status` is given; a 401
    carries `WWW-Authenticate: Bearer` (RFC 6750)."""
    code = status if status is not None else status_of(reason)
    if code == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(error_body(reason, detail), status_code=code, headers=headers)


class BodyTooLarge(StarletteHTTPException):
    """A request body over the limit, raised while it is being read (api.app's BodyLimit). An HTTP
    exception so that FastAPI's body parsing passes it on instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(status_code=413, detail=too_large_detail(limit))


def too_large_detail(limit: int) -> str:
    from domain.persian import persian_digits

    return f"بیش از {persian_digits(f'{limit:,}')} بایت"


# Persian wording of the pydantic error types a request most often fails with.
_VALIDATION_FA = {
    "missing": "لازم است و داده نشده است",
    "json_invalid": "JSON نامعتبر است",
    "string_type": "باید متن باشد",
    "int_type": "باید عدد صحیح باشد",
    "int_parsing": "باید عدد صحیح باشد",
    "bool_type": "باید درست یا نادرست باشد",
    "bool_parsing": "باید درست یا نادرست باشد",
    "dict_type": "باید شیء JSON باشد",
    "model_attributes_type": "باید شیء JSON باشد",
    "list_type": "باید فهرست باشد",
    "greater_than_equal": "از کمترین مقدار مجاز کوچک‌تر است",
    "less_than_equal": "از بیشترین مقدار مجاز بزرگ‌تر است",
    "string_too_short": "کوتاه‌تر از حد مجاز است",
    "string_too_long": "بلندتر از حد مجاز است",
    "string_pattern_mismatch": "قالب نادرست دارد",
    "extra_forbidden": "پذیرفته نیست",
    "datetime_parsing": "تاریخ و زمان نامعتبر است",
    "date_parsing": "تاریخ نامعتبر است",
    "enum": "از مقدارهای مجاز نیست",
    "literal_error": "از مقدارهای مجاز نیست",
}


def validation_detail(errors: Sequence[Any]) -> str:
    """One Persian line naming each field that failed and why, e.g. «body.national_id»: لازم است ..."""
    parts = []
    for err in list(errors)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "درخواست"
        why = _VALIDATION_FA.get(str(err.get("type", "")), "نامعتبر است")
        parts.append(f"فیلد «{loc}» {why}")
    more = len(errors) - len(parts)
    return "؛ ".join(parts) + (f"؛ و {more} مورد دیگر" if more > 0 else "")


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if exc.reason is Reason.STORE_UNREACHABLE or status_of(exc.reason) >= 500:
        log.error("%s %s refused: %s %s", request.method, request.url.path, exc.reason.value, exc.detail)
    return error_response(exc.reason, exc.detail or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(Reason.INVALID_INPUT, validation_detail(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason = _REASON_OF_STATUS.get(exc.status_code, Reason.INVALID_INPUT)
    detail = exc.detail if isinstance(exc, BodyTooLarge) else None
    if exc.status_code == 405:
        detail = f"روش {request.method} برای این نشانی پذیرفته نیست"
    return error_response(reason, detail, status=exc.status_code, headers=getattr(exc, "headers", None))


def register_error_handlers(app: FastAPI) -> None:
    """DomainError -> its status and shape; FastAPI's request validation -> INVALID_INPUT naming the
    field (422); Starlette's HTTP errors (unknown path, wrong method, body too large) -> the same
    shape. Anything else is caught by `CatchAll` (500 INTERNAL_ERROR)."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class CatchAll:
    """ASGI middleware: an exception no handler took becomes 500 INTERNAL_ERROR in the usual shape,
    with the traceback in the server's log only. (Starlette's own last-resort handler would send a
    plain-text body and raise the exception again.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started:  # the response is under way: nothing sane can be sent any more
                raise
            await error_response(Reason.INTERNAL_ERROR)(scope, receive, send)
