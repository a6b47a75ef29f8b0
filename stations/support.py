"""The support channel at a person's station (R26): a district's staff member or a contractor's
signatory opens a request and follows its reply trail; the support desk (role `support`) answers.
Every message is a SupportMessage signed on the person's own token (services.support.build_message).

    open_request(station, subject, text)         -> the request with its trail
    list_requests(station, status=None)          -> {"count", "requests"}
    show_request(station, request_id)            -> the request with its trail
    reply(station, request_id, text, close=False) -> the request after the message

Every function raises what the station raises (the API's refusals with their reason codes,
STORE_UNREACHABLE, TOKEN_*).
"""
from __future__ import annotations

from typing import Any

from services.support import build_message
from stations.client import Station

PATH = "/v1/support/requests"


def _json(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def open_request(station: Station, subject: str, text: str) -> dict[str, Any]:
    """Open a request. Raises: FIELD_MISSING (no subject or text), INVALID_INPUT (too long)."""
    return _json(station.post_signed(PATH, build_message("open", text, subject=subject)).json())


def list_requests(station: Station, status: str | None = None) -> dict[str, Any]:
    """The station person's requests (the support desk: all), newest first."""
    return _json(station.get(PATH, params={"status": status} if status else None).json())


def show_request(station: Station, request_id: int) -> dict[str, Any]:
    """One request and its trail. Raises: NOT_FOUND, NOT_AUTHORISED."""
    return _json(station.get(f"{PATH}/{int(request_id)}").json())


def reply(station: Station, request_id: int, text: str, close: bool = False) -> dict[str, Any]:
    """Reply to the request (or close it, with an optional last word).

    Raises: WRONG_STAGE (closed), NOT_AUTHORISED, NOT_FOUND, FIELD_MISSING (an empty reply)."""
    doc = build_message("close" if close else "reply", text, request_id=int(request_id))
    return _json(station.post_signed(f"{PATH}/{int(request_id)}/messages", doc).json())
