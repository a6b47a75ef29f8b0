"""The transactions system's API seen from an outside system: an HTTP client (httpx).

`HttpTransactionsSystem` is `integrations.transactions_api.TransactionsSystem` (contracts by code,
statements by id: what the financial and project-control systems fetch, R14, R18, R28) and
`integrations.ocds.ReleaseSource` (release packages and the paginated release list the
transparency site reads, R21) over `GET /v1/...` of `eproc serve`. The pilot keeps its in-process
objects (services.transactions_view.StoreTransactionsSystem); a real outside system, or a test
with httpx's ASGI transport against `api.app.create_app`, uses this one.

A 404 answered with reason NOT_FOUND means "the transactions system holds no such thing" (None);
any other refusal is raised as the DomainError the server stated; no answer at all, or an answer
that is not the API's, is STORE_UNREACHABLE (the transactions system's data could not be read).
"""
from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from domain.reasons import DomainError, Reason
from integrations.transactions_api import ContractInfo, StatementInfo

API_PREFIX = "/v1"


class HttpTransactionsSystem:
    """Reads the transactions system's API at `base_url` (e.g. `http://127.0.0.1:8000`).

    `headers` go with every request (an outside system's credentials, once api.security asks for
    them); `transport` replaces the network, or `client` is a ready httpx.Client (starlette's
    TestClient over `api.app.create_app(deps)` in tests and in-process runs; its base URL is used);
    `timeout` is in seconds; `page_size` is how many releases each page of the list asks for.
    Use as a context manager, or call close()."""

    def __init__(self, base_url: str = "", *, headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None, client: httpx.Client | None = None,
                 timeout: float = 30.0, page_size: int = 100) -> None:
        if client is None:
            client = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)
        elif base_url:
            client.base_url = httpx.URL(base_url.rstrip("/"))
        client.headers.update(dict(headers or {}))
        self._client = client
        self._base = str(client.base_url).rstrip("/")
        self._page_size = page_size

    # --- plumbing ---------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpTransactionsSystem:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _get(self, url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON object at `url`, or None for the API's NOT_FOUND.

        Raises: the server's reason for any other refusal; STORE_UNREACHABLE when it cannot be read."""
        try:
            response = self._client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise DomainError(Reason.STORE_UNREACHABLE,
                              f"سامانهٔ معاملات در {self._base} پاسخ نداد: {type(exc).__name__}") from exc
        body = _json(response)
        if response.is_success and body is not None:
            return body
        reason = _reason(body)
        if response.status_code == 404 and reason is Reason.NOT_FOUND:
            return None
        if reason is not None:
            raise DomainError(reason, str((body or {}).get("detail") or ""))
        raise DomainError(Reason.STORE_UNREACHABLE,
                          f"پاسخ نامعتبر سامانهٔ معاملات ({response.status_code}) برای {response.request.url}")

    def _same_origin(self, url: str) -> bool:
        base, other = urlsplit(self._base), urlsplit(url)
        return (base.scheme, base.netloc) == (other.scheme, other.netloc)

    # --- TransactionsSystem (R14, R18, R28) --------------------------------------------

    def contract_by_code(self, code: str) -> ContractInfo | None:
        """The contract under exactly this code, or None (a blank code included)."""
        if not str(code or "").strip():
            return None
        body = self._get(f"{API_PREFIX}/contracts/{quote(str(code).strip(), safe='')}")
        if body is None:
            return None
        contractor = body.get("contractor") or {}
        return ContractInfo(code=body["code"], tracking_number=body["tracking_number"], unit=body["unit"],
                            stage=body["stage"], amount_rial=int(body["amount_rial"]),
                            budget_line=body.get("budget_line") or "", expense_factor=body.get("expense_factor") or "",
                            contractor_company_id=contractor.get("company_id") or "", title=body.get("title") or "",
                            nature=body.get("nature") or "expense")

    def statement(self, statement_id: str) -> StatementInfo | None:
        """The settled statement `{tracking number}/{ref}`, or None."""
        if not str(statement_id or "").strip():
            return None
        body = self._get(f"{API_PREFIX}/statements/{quote(str(statement_id), safe='/')}")
        if body is None:
            return None
        return StatementInfo(id=body["id"], contract_code=body.get("contract_code") or "", result=body["result"],
                             payable_rial=int(body["payable_rial"]),
                             signed_by_contractor=bool(body["signed_by_contractor"]),
                             signed_by_treasurer=bool(body["signed_by_treasurer"]),
                             signed_xml=base64.b64decode(body.get("signed_xml_b64") or ""))

    # --- ReleaseSource (R21) -----------------------------------------------------------

    def release_package(self, ocid: str) -> dict[str, Any] | None:
        """The OCDS release package of one contracting process, or None when nothing is published."""
        return self._get(f"{API_PREFIX}/ocds/releases/{quote(ocid, safe='')}")

    def record_package(self, ocid: str) -> dict[str, Any] | None:
        """The OCDS record package of one contracting process, or None when nothing is published."""
        return self._get(f"{API_PREFIX}/ocds/records/{quote(ocid, safe='')}")

    def release_pages(self) -> Iterator[dict[str, Any]]:
        """Every page of the release list, following `links.next` (only to the same server).

        Raises: STORE_UNREACHABLE when a `next` link leaves the server."""
        page = self._get(f"{API_PREFIX}/ocds/releases", params={"page": 1, "page_size": self._page_size})
        while page is not None:
            yield page
            following = (page.get("links") or {}).get("next")
            if not following:
                return
            if not self._same_origin(following):
                raise DomainError(Reason.STORE_UNREACHABLE, f"پیوند صفحهٔ بعد به سامانهٔ دیگری است: {following}")
            page = self._get(following)

    def releases(self) -> Iterator[dict[str, Any]]:
        """Every published release, page after page (nothing while nothing is published)."""
        for page in self.release_pages():
            yield from page.get("releases") or []


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _reason(body: dict[str, Any] | None) -> Reason | None:
    try:
        return Reason(str((body or {}).get("reason")))
    except ValueError:
        return None
