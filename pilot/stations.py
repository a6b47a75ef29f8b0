"""The rehearsal's stations: every simulated person acts through the same API as in production
(issue 11 part 6), each a client of their own with their own token directory and PIN
(pilot.world), on the rehearsal's simulated clock. The transport is in-process (the API application
of the world's container, called through httpx without a socket); the requests, signatures, checks
and refusals are those of `eproc serve`.

    stations = PilotStations(world)
    with stations.person(nid, "contracts_officer", "district-12") as officer:
        stations.operator.create_tender(officer, data, "tender.toml")   # stations.operator / .bidder
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
from anyio.from_thread import start_blocking_portal

from api.app import create_app
from config.settings import Settings
from domain.documents.pricelist import PriceListContent
from services.pricelists import APPROVER_ROLE, OPERATOR_ROLE
from stations import operator
from stations.client import Api, Station

if TYPE_CHECKING:
    from pilot.world import World

SERVER = "http://transactions.pilot"  # in-process: no socket is opened


class InProcessTransport(httpx.BaseTransport):
    """httpx's own ASGI transport made synchronous: each request runs the application on an event
    loop of its own thread (anyio's blocking portal), as a server's worker would."""

    def __init__(self, app: object) -> None:
        self.asgi = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=request.read())

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self.asgi.handle_async_request(copy)
            return response.status_code, response.headers, await response.aread()

        with start_blocking_portal() as portal:
            status, headers, content = portal.call(call)
        return httpx.Response(status, headers=headers, content=content, request=request)


class PilotStations:
    """The API of `world` and its people's clients. Raises what the API and the stations raise."""

    def __init__(self, world: World) -> None:
        self.world = world
        settings = Settings(data_dir=world.base_dir, api_secret=secrets.token_urlsafe(48))
        self.app = create_app(world.deps, settings=settings)

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=SERVER, transport=InProcessTransport(self.app), timeout=120.0)

    @contextmanager
    def public(self) -> Iterator[Api]:
        """An anonymous client (public reads: the notice, the CA certificate)."""
        with Api(SERVER, client=self._client()) as api:
            yield api

    @contextmanager
    def person(self, national_id: str, role: str | None, unit: str = "") -> Iterator[Station]:
        """The station of the person `national_id` (their own token and PIN), logged in as `role@unit`
        at the simulated clock's time (not logged in when `role` is None)."""
        signer = self.world.signer(national_id)
        with Station(SERVER, signer.token_label, signer.key_label, pin=signer.pin, clock=self.world.clock,
                     client=self._client()) as st:
            yield st.login(role, unit) if role is not None else st

    def approve_price_list_and_formulas(self, content: PriceListContent, technical_council_ref: str) -> None:
        """The contracts officer imports `content`; the deputy approves it and every formula of the
        policy on their token (R09). Both are the scenario unit's staff."""
        w = self.world
        with self.person(w.staff["contracts_officer"], OPERATOR_ROLE, w.unit) as officer:
            operator.import_price_list(officer, content)
        with self.person(w.staff["deputy"], APPROVER_ROLE, w.unit) as deputy:
            operator.approve_price_list(deputy, content.list_id, content.version, technical_council_ref)
            for f in w.policy.formulas:
                operator.approve_formula(deputy, f.id, f.version, f.technical_council_ref)
