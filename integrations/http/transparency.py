"""integrations.transparency.TransparencyPublisher over HTTP (`eproc stub serve transparency`)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from domain.reasons import DomainError, Reason
from integrations.http._client import JsonClient
from integrations.http.typed_json import encode
from integrations.transparency import PublishResult


class HttpTransparencyPublisher:
    """The transparency service at `base_url`; `transport` for tests."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 60.0) -> None:
        self._http = JsonClient(base_url, "سایت شفافیت", transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def publish(self, contract_data: dict[str, Any]) -> PublishResult:
        body = self._http.call("POST", "/v1/publish", json=encode(contract_data))
        return PublishResult(status=body["status"], contract_code=body["contract_code"], ocid=body.get("ocid"),
                             release_id=body.get("release_id"), already_published=bool(body.get("already_published")),
                             reason=body.get("reason"))

    def fetch(self, ocid: str | None = None) -> list[str]:
        """Have the site read published releases from the transactions system (by ocid, or all pages)."""
        ids: list[str] = self._http.call("POST", "/v1/fetch", json={"ocid": ocid})["release_ids"]
        return ids

    def releases(self) -> Iterator[dict[str, Any]]:
        yield from self._http.call("GET", "/v1/releases")

    def export_package(self, path: str | Path, releases: Iterable[dict[str, Any]] | None = None,
                       validate: bool = True) -> int:
        """Write the site's release package to `path`; returns the number of releases.

        Raises: INVALID_INPUT when `releases` is given (the site exports what it holds)."""
        if releases is not None:
            raise DomainError(Reason.INVALID_INPUT, "سایت شفافیت تنها انتشارهای خود را برون‌بری می‌کند")
        package = self._http.call("GET", "/v1/package", params={"validate": validate})
        Path(path).write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
        return len(package.get("releases") or [])

    def publish_contractor_lists(self, lists: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call("POST", "/v1/lists/contractors", json=encode(lists))
        return result

    def publish_project_figures(self, figures: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call("POST", "/v1/lists/projects", json=encode(figures))
        return result
