"""R28 (with R14, R18): the transactions system is the single reference; outside systems fetch
contracts by code and status statements by id from its API, nobody types them again.

Read from the district-12 world of test_r21_ocds_api (one whole rehearsal per process): its
contract reached `final` and got its code, two statements were settled and paid.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from test_r21_ocds_api import client_for, copy_of_world_deps, district12_world

from domain.persian import format_jalali_date, format_jalali_datetime
from domain.reasons import DomainError, Reason
from integrations import ocds
from services.transactions_view import StoreTransactionsSystem, statement_key

pytestmark = pytest.mark.xdist_group("api-district12")  # the same rehearsal as test_r21_ocds_api


@pytest.fixture(scope="module")
def run(tmp_path_factory, prefect_server):
    return district12_world(tmp_path_factory)


@pytest.fixture(scope="module")
def world(run):
    return run[0]


@pytest.fixture(scope="module")
def report(run) -> dict[str, Any]:
    return run[1]


@pytest.fixture(scope="module")
def client(world):
    with client_for(world.deps) as c:
        yield c


@pytest.fixture(scope="module")
def contract_row(world):
    with world.deps.uow() as uow:
        return uow.contracts.for_tender(world.scenario.scenario.name)


def refused(response: Any, status: int, reason: Reason) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["reason"] == reason.value and body["message_fa"].startswith(reason.message_fa)
    return body


def test_r28_contract_by_code_is_what_the_transactions_system_holds(client, world, report, contract_row):
    code = report["contract"]["code"]
    assert code and code == contract_row.code
    response = client.get(f"/v1/contracts/{code}")
    assert response.status_code == 200, response.text
    body = response.json()

    scenario = world.scenario
    winner = next(b for b in scenario.bidders if b.id == report["contract"]["bidder"])
    assert (body["code"], body["stage"], body["amount_rial"]) == (code, "final", report["contract"]["amount_rial"])
    assert isinstance(body["amount_rial"], int)  # rials, never a formatted string
    assert body["tracking_number"] == contract_row.tracking_number and body["unit"] == scenario.tender.unit
    assert (body["budget_line"], body["expense_factor"]) == (scenario.contract.budget_line,
                                                             scenario.contract.expense_factor)
    assert body["contractor"] == {"company_id": winner.national_id, "name": winner.name,
                                  "economic_code": winner.economic_code, "grade": winner.grade}
    assert body["title"] == scenario.tender.title and body["selection_method"] == scenario.tender.kind
    concluded = contract_row.concluded_at
    assert body["concluded_at"] == ocds.iso_utc(concluded) and body["concluded_at"].endswith("Z")
    assert body["concluded_at_jalali"] == format_jalali_datetime(concluded)
    assert body["contract_date_jalali"] == format_jalali_date(concluded)
    stages = [a["stage"] for a in body["approvals"]]
    assert stages and all(a["approved_at"].endswith("Z") and a["approved_at_jalali"] for a in body["approvals"])
    assert len(stages) == len(set(stages))
    # Exactly what the payment gate reads in-process, field for field.
    info = StoreTransactionsSystem(world.deps.sessions).contract_by_code(code)
    assert (info.tracking_number, info.unit, info.stage, info.amount_rial, info.budget_line, info.expense_factor,
            info.contractor_company_id, info.title) == (
        body["tracking_number"], body["unit"], body["stage"], body["amount_rial"], body["budget_line"],
        body["expense_factor"], body["contractor"]["company_id"], body["title"])


def test_r28_unknown_code_is_not_found_with_its_reason(client, report):
    code = report["contract"]["code"]
    unit, year, seq, check = code.split("-")
    other_seq = f"{unit}-{year}-{int(seq) + 1:06d}-{check}"
    for unknown in (other_seq, code.lower(), code + "0", "NO-SUCH-CODE"):
        body = refused(client.get(f"/v1/contracts/{unknown}"), 404, Reason.NOT_FOUND)
        assert unknown in body["detail"]
    refused(client.get("/v1/contracts/%20"), 404, Reason.NOT_FOUND)


def test_r28_a_contract_without_code_is_not_reachable_by_code(world, contract_row, tmp_path):
    """A contract still in its workflow has no code (R12: issued only at `final`): nothing names it,
    not its tracking number either, so outside systems refuse it as having no code (R13, R14)."""
    from integrations.stubs.project_control import ProjectControlStub
    from integrations.transactions_api import usable_contract
    from integrations.transactions_http import HttpTransactionsSystem
    from store import models as m
    from store.stub_tables import create_stub_tables, sqlite_engine

    deps = copy_of_world_deps(world, tmp_path)
    tracking = f"{contract_row.tracking_number}-open"
    with deps.uow() as uow:
        fields = {c.name: getattr(contract_row, c.name) for c in m.Contract.__table__.columns if c.name != "id"}
        fields.update(tracking_number=tracking, code=None, stage="treasurer", concluded_at=None)
        uow.contracts.add(m.Contract(**fields))
        uow.commit()

    with client_for(deps) as client:
        for name in (tracking, "None", "null", ""):
            response = client.get(f"/v1/contracts/{name}")
            assert response.status_code == 404, (name, response.text)
        transactions = HttpTransactionsSystem(client=client)
        assert transactions.contract_by_code(tracking) is None
        with pytest.raises(DomainError) as exc:
            usable_contract(transactions, tracking)
        assert exc.value.reason is Reason.NO_CONTRACT_CODE
        site_db = sqlite_engine(tmp_path / "project-control.db")
        create_stub_tables(site_db)
        project_control = ProjectControlStub(site_db, transactions, world.clock)
        with pytest.raises(DomainError) as exc:
            project_control.register_contract(tracking)
        assert exc.value.reason is Reason.NO_CONTRACT_CODE


def test_r28_statement_by_id(client, world, report, contract_row):
    settled = report["status_statements"]
    assert set(settled) == {"s1", "s2"}
    store = StoreTransactionsSystem(world.deps.sessions)
    for ref, expected in settled.items():
        statement_id = statement_key(contract_row.tracking_number, ref)
        response = client.get(f"/v1/statements/{statement_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        info = store.statement(statement_id)
        assert (body["id"], body["ref"], body["contract_code"]) == (statement_id, ref, report["contract"]["code"])
        assert (body["result"], body["payable_rial"]) == (expected["result"], expected["payable_rial"])
        assert body["signed_by_contractor"] is info.signed_by_contractor is True
        assert body["signed_by_treasurer"] is info.signed_by_treasurer
        assert base64.b64decode(body["signed_xml_b64"]) == info.signed_xml and info.signed_xml
        assert body["at"].endswith("Z") and body["at_jalali"]
        assert body["gross_rial"] >= body["payable_rial"] > 0
    for unknown in (statement_key(contract_row.tracking_number, "s9"), statement_key("TRK-0-0000-00000", "s1"),
                    "s1", contract_row.tracking_number):
        body = refused(client.get(f"/v1/statements/{unknown}"), 404, Reason.NOT_FOUND)
        assert unknown in body["detail"]


def test_r28_outside_systems_read_over_http_what_they_read_in_process(client, world, report, contract_row,
                                                                       tmp_path):
    """integrations.transactions_http gives the financial and project-control systems the same answers
    over the API as the in-process view of the pilot, so either can be wired in."""
    from integrations.stubs.project_control import ProjectControlStub
    from integrations.transactions_http import HttpTransactionsSystem
    from store.stub_tables import create_stub_tables, sqlite_engine

    code = report["contract"]["code"]
    store = StoreTransactionsSystem(world.deps.sessions)
    with HttpTransactionsSystem(client=client) as transactions:
        assert transactions.contract_by_code(code) == store.contract_by_code(code)
        assert transactions.contract_by_code(" ") is None and transactions.contract_by_code("NO-SUCH") is None
        for ref in ("s1", "s2"):
            statement_id = statement_key(contract_row.tracking_number, ref)
            assert transactions.statement(statement_id) == store.statement(statement_id)
        assert transactions.statement(statement_key(contract_row.tracking_number, "s9")) is None

        site_db = sqlite_engine(tmp_path / "project-control.db")  # project control's own database
        create_stub_tables(site_db)
        project_control = ProjectControlStub(site_db, transactions, world.clock)
        assert project_control.register_contract(code).contract_code == code
        recorded = project_control.record_statement(statement_key(contract_row.tracking_number, "s1"))
        assert recorded.payable_rial == report["status_statements"]["s1"]["payable_rial"]


def test_r28_reading_contracts_and_statements_goes_through_the_authentication_hook(world, contract_row):
    """`outside_system` is the one dependency api.security decides with: refusing there refuses
    contracts and statements; publication stays public."""
    from api.routers.publication import outside_system

    def nobody() -> None:
        raise DomainError(Reason.NOT_AUTHENTICATED, "test")

    with client_for(world.deps) as client:
        client.app.dependency_overrides[outside_system] = nobody
        refused(client.get(f"/v1/contracts/{contract_row.code}"), 401, Reason.NOT_AUTHENTICATED)
        refused(client.get(f"/v1/statements/{statement_key(contract_row.tracking_number, 's1')}"), 401,
                Reason.NOT_AUTHENTICATED)
        assert client.get(f"/v1/ocds/releases/{ocds.ocid_for(world.scenario.scenario.name)}").status_code == 200


def test_r28_the_openapi_document_lists_the_read_operations(world):
    with client_for(world.deps) as client:
        document = client.get("/openapi.json").json()
    paths = document["paths"]
    for path in ("/v1/contracts/{code}", "/v1/statements/{statement_id}", "/v1/ocds/releases",
                 "/v1/ocds/releases/{ocid}", "/v1/ocds/records/{ocid}"):
        operation = paths[path]["get"]
        assert operation["summary"] and operation["description"], path
        assert any("\u0600" <= ch <= "\u06ff" for ch in operation["description"]), path  # Persian too
        assert "404" in operation["responses"], path
    assert json.dumps(document, ensure_ascii=False)  # serialisable as served

