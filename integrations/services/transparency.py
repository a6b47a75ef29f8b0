"""The transparency site's publisher as its own service (issue 13 part 4, R21, R24, R25): the stub
(integrations.stubs.transparency.TransparencyPublisherStub) on the service's own database.

`POST /v1/fetch` reads published releases from the transactions system (`GET /v1/ocds/...`) by ocid
or page by page, which is how the site fetches (R21, R28). `POST /v1/publish` takes the contract data
the engine publishes (the Protocol's `publish(contract_data)`): the transactions API lists a release
only once the engine has stored that publication's outcome, so the first publication still carries
the data; the stub checks every field as before.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from integrations.http.typed_json import decode
from integrations.ocds import ReleaseSource
from integrations.services._web import service_app
from integrations.stubs.transparency import TransparencyPublisherStub


class FetchBody(BaseModel):
    ocid: str | None = None


def create_app(stub: TransparencyPublisherStub, source: ReleaseSource) -> FastAPI:
    """The transparency service's HTTP API; `source` is the transactions system's OCDS endpoints."""
    app = service_app("سایت شفافیت (شبیه‌ساز) — transparency publisher stub service")

    @app.post("/v1/publish")
    def publish(body: dict[str, Any]) -> dict[str, Any]:
        return stub.publish(decode(body)).to_dict()

    @app.post("/v1/fetch")
    def fetch(body: FetchBody) -> dict[str, Any]:
        return {"release_ids": stub.fetch(source, body.ocid)}

    @app.get("/v1/releases")
    def releases() -> list[dict[str, Any]]:
        return list(stub.releases())

    @app.get("/v1/package")
    def package(validate: bool = True) -> FileResponse:
        fd, tmp = tempfile.mkstemp(prefix=".ocds-export-", suffix=".json")
        os.close(fd)
        stub.export_package(tmp, validate=validate)
        return FileResponse(tmp, media_type="application/json",
                            background=BackgroundTask(lambda: Path(tmp).unlink(missing_ok=True)))

    @app.post("/v1/lists/contractors")
    def contractor_lists(body: dict[str, Any]) -> dict[str, Any]:
        return stub.publish_contractor_lists(decode(body))

    @app.post("/v1/lists/projects")
    def project_figures(body: list[dict[str, Any]]) -> dict[str, Any]:
        return stub.publish_project_figures(decode(body))

    return app
