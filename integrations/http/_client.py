"""JSON over HTTP with the API's refusal shape, shared by the outside systems' clients and services.

A refusal is `{reason, message_fa, detail}` (as api.errors answers): the client raises the DomainError
the server stated; no answer, or one that is not JSON of that shape, is STORE_UNREACHABLE.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from domain.reasons import DomainError, Reason


class JsonClient:
    """httpx over `base_url` (e.g. `http://127.0.0.1:8601`) for the outside system named `system`
    (Persian, for messages); `transport` replaces the network (tests); `timeout` in seconds."""

    def __init__(self, base_url: str, system: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0, headers: Mapping[str, str] | None = None) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout,
                                    headers=dict(headers or {}))
        self._system = system

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def call(self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
             none_when_not_found: bool = False) -> Any:
        """The JSON answer of `method url`; None for NOT_FOUND when `none_when_not_found`.

        Raises: the server's reason for a refusal; STORE_UNREACHABLE when there is no usable answer."""
        try:
            response = self._client.request(method, url, json=json, params=params)
        except httpx.HTTPError as exc:
            raise DomainError(Reason.STORE_UNREACHABLE,
                              f"{self._system} در {self._client.base_url} پاسخ نداد: {type(exc).__name__}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        reason = reason_of(body)
        if reason is Reason.NOT_FOUND and none_when_not_found:
            return None
        if reason is not None:
            raise DomainError(reason, str(body.get("detail") or ""))
        raise DomainError(Reason.STORE_UNREACHABLE,
                          f"پاسخ نامعتبر {self._system} ({response.status_code}) برای {response.request.url}")


def reason_of(body: object) -> Reason | None:
    """The reason code of a refusal body `{reason, ...}`, or None when it is not one."""
    if not isinstance(body, dict):
        return None
    try:
        return Reason(str(body.get("reason")))
    except ValueError:
        return None
