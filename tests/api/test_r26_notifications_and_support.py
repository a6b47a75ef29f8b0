"""R26: contractors are told every step that concerns them (SMS outbox, which is also their portal
inbox) from the contractor registry's contacts, each message exactly once even on a rerun; a
contractor without contacts is reported; districts and contractors have a support channel with a
Persian reply trail, each message signed on the author's own token.

Read from a copy of the district-12 world of test_r21_ocds_api (one whole rehearsal per process):
its contract passed every stage and got its code, two statements were approved, one payment made.
The copy runs as production does: no rehearsal contacts, the registry's contacts only.
"""
from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from typing import Any

import pytest
from test_r21_ocds_api import copy_of_world_deps, district12_world

from domain.persian import to_tehran
from domain.reasons import DomainError, Reason

pytestmark = pytest.mark.xdist_group("api-district12")  # the same rehearsal as test_r21_ocds_api

SUPPORT_UNIT = "municipality"


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_server):
    return district12_world(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def production_like(world, tmp_path_factory):
    """The world's store copied, with the outbox and the contractor registry on the copy and no
    rehearsal contacts; the winner (b3) registered with contacts, the runner-up (b4) without; the
    opening results the rehearsal sent its simulated bidders taken out of the copy's outbox."""
    from sqlalchemy import text

    from integrations.contractor_registry import Company, Contacts
    from integrations.stubs.contractor_registry import ContractorRegistryStub
    from integrations.stubs.notifications import SmsOutboxStub

    deps = copy_of_world_deps(world, tmp_path_factory.mktemp("r26"))
    engine = deps.sessions.kw["bind"]
    with engine.begin() as c:  # the rehearsal told its simulated bidders the result; here nobody was told yet
        c.execute(text("DELETE FROM ext_sms_outbox WHERE template = 'opening_result'"))
    registry = ContractorRegistryStub(engine, world.clock)
    deps = dataclasses.replace(deps, contacts={}, notifier=SmsOutboxStub(engine, world.clock))
    deps.contractors = registry  # the registry port (services.notify.registry_of)
    by_id = {b.id: b for b in world.scenario.bidders}
    for ref in ("b3", "b4"):
        b = by_id[ref]
        registry.register_company(Company(b.national_id, b.name, b.economic_code, b.grade,
                                          world.bidder_signatory[ref], f"مدیرعامل {b.name}"))
    registry.record_contacts(Contacts(by_id["b3"].national_id, "۰۹۱۲ ۱۲۳ ۴۵۶۷", "Info@Omran-Shahr.ir"))
    return deps


def company(world, ref: str) -> str:
    return next(b.national_id for b in world.scenario.bidders if b.id == ref)


def test_r26_registry_contacts_follow_the_registry_rules(production_like, world):
    registry = production_like.contractors
    saved = registry.contacts(company(world, "b3"))
    assert (saved.mobile, saved.email) == ("09121234567", "info@omran-shahr.ir")
    from integrations.contractor_registry import Contacts

    with pytest.raises(DomainError) as bad:
        registry.record_contacts(Contacts(company(world, "b3"), "12345", None))
    assert bad.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as unknown:
        registry.record_contacts(Contacts(company(world, "b1"), "09121234567", None))  # not in the registry
    assert unknown.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as empty:
        registry.record_contacts(Contacts(company(world, "b4"), None, " "))
    assert empty.value.reason is Reason.FIELD_MISSING


def test_r26_a_contractor_with_registry_contacts_gets_an_sms_for_each_step_once(production_like, world):
    from services.notify import notify_contract, notify_tender

    deps = production_like
    winner = company(world, "b3")
    with deps.uow() as uow:
        contract = uow.contracts.for_tender(world.scenario.scenario.name)
        approvals = [a.stage for a in uow.contracts.approvals(contract.id)]
        statements = {s.ref: s.result for s in uow.statements.for_contract(contract.id)}
    assert contract.contractor_id == winner and contract.code and approvals
    assert statements == {"s1": "approved", "s2": "approved"}

    first = notify_contract(deps, contract.tracking_number)
    assert first.unreachable == []
    inbox = deps.notifier.outbox(winner)
    templates = [msg.template for msg in inbox]
    assert templates.count("contract_stage") == len(approvals)
    assert templates.count("contract_code") == 1
    assert templates.count("statement_approved") == 2
    assert templates.count("payment_made") == 1  # p1 paid; p2 (duplicate) and p3 (no code) refused
    assert {msg.mobile for msg in inbox} == {"09121234567"}
    code_text = next(msg.text for msg in inbox if msg.template == "contract_code")
    assert contract.code in code_text and "کد قرارداد" in code_text

    tender = notify_tender(deps, world.scenario.scenario.name)
    b3 = deps.notifier.outbox("b3")
    assert [m.template for m in b3].count("opening_result") == 1
    assert "برنده" in next(m.text for m in b3 if m.template == "opening_result")
    # The receipt the submission step sent in the rehearsal has the same key: not sent again.
    assert [m.template for m in b3].count("bid_receipt") == 1

    # A rerun (a resumed flow, the operator's `eproc support notify` again) sends nothing new.
    again = notify_contract(deps, contract.tracking_number)
    again_tender = notify_tender(deps, world.scenario.scenario.name)
    assert sorted(again.sent) == sorted(first.sent) and sorted(again_tender.sent) == sorted(tender.sent)
    assert deps.notifier.outbox(winner) == inbox
    assert len(deps.notifier.outbox("b3")) == len(b3)


def test_r26_a_contractor_without_contacts_is_reported_not_skipped(production_like, world):
    from services.notify import gaps, notify, notify_tender

    deps = production_like
    result = notify_tender(deps, world.scenario.scenario.name)
    unreachable = {recipient for recipient, _ in result.unreachable}
    assert {"b4", "b1", "b5"} <= unreachable and "b3" not in unreachable  # b1, b5: not even registered
    recorded = gaps(deps, "b4")
    # b4's receipt went out in the rehearsal (a contact then): delivered, so not a gap now.
    assert [g["template"] for g in recorded] == ["opening_result"]
    assert all(g["company"] == company(world, "b4") for g in recorded)
    assert all(g["noted_at_jalali"].startswith("1400/") for g in recorded)
    before = len(gaps(deps))
    notify_tender(deps, world.scenario.scenario.name)  # a rerun records nothing twice
    notify(deps, "b4", "winner_notification", {"tender_title": "x", "amount_rial": 1, "signing_deadline": "y"},
           f"article18:{world.scenario.scenario.name}:b4", company_id=company(world, "b4"))
    assert len(gaps(deps)) == before + 1  # the inline step's notice is reported the same way
    assert [m.template for m in deps.notifier.outbox("b4")] == ["bid_receipt"]


# --- the support channel over the API, each person with their own token -----------------------------
@pytest.fixture(scope="module")
def stations(world, production_like, tmp_path_factory):
    """The API over the production-like copy, reached from the people's own stations (in-process);
    the treasurer also holds the support desk's role."""
    from api.app import create_app
    from config.settings import Settings
    from pilot.stations import PilotStations

    support_nid = world.staff["treasurer"]
    since = to_tehran(world.clock.now()).date() - timedelta(days=30)
    with production_like.uow() as uow:
        uow.roles.assign(support_nid, "support", SUPPORT_UNIT, since)
        uow.commit()
    st = PilotStations(world)
    st.app = create_app(production_like, settings=Settings(data_dir=tmp_path_factory.mktemp("r26-api"),
                                                           api_secret=secrets.token_urlsafe(48)))
    return st


def test_r26_a_support_request_and_its_reply_trail_over_the_api_with_tokens(stations, world, production_like):
    from services.signers import COMPANY_SIGNATORY
    from stations.support import list_requests, open_request, reply, show_request

    contractor, winner = world.bidder_signatory["b3"], company(world, "b3")
    officer, support = world.staff["contracts_officer"], world.staff["treasurer"]
    with stations.person(contractor, COMPANY_SIGNATORY, winner) as st:
        opened = open_request(st, "توکن ما کار نمی‌کند", "هنگام امضای صورت‌وضعیت پیام «توکن یافت نشد» می‌آید.")
        request_id = opened["id"]
        assert opened["status"] == "open" and opened["requester"]["kind"] == "contractor"
    with stations.person(officer, "contracts_officer", world.unit) as st:
        district = open_request(st, "آموزش امضای صورتجلسه", "برای کارشناس تازه‌وارد راهنما می‌خواهیم.")
        assert district["requester"]["kind"] == "district"
        # Not theirs: another person's request is neither shown nor answerable.
        with pytest.raises(DomainError) as foreign:
            show_request(st, request_id)
        assert foreign.value.reason is Reason.NOT_AUTHORISED
        with pytest.raises(DomainError) as foreign_reply:
            reply(st, request_id, "من پاسخ می‌دهم")
        assert foreign_reply.value.reason is Reason.NOT_AUTHORISED
        assert [r["id"] for r in list_requests(st)["requests"]] == [district["id"]]
    with stations.person(support, "support", SUPPORT_UNIT) as st:
        assert {r["id"] for r in list_requests(st, "open")["requests"]} == {request_id, district["id"]}
        answered = reply(st, request_id, "پین توکن را دوباره وارد کنید و برنامهٔ درایور را نصب کنید.")
        assert answered["status"] == "answered" and answered["status_fa"] == "پاسخ داده شده"
    with stations.person(contractor, COMPANY_SIGNATORY, winner) as st:
        closed = reply(st, request_id, "درست شد، سپاس.", close=True)
        with pytest.raises(DomainError) as after_close:
            reply(st, request_id, "یک پرسش دیگر")
        assert after_close.value.reason is Reason.WRONG_STAGE
        trail = show_request(st, request_id)
        portal = st.get("/v1/notifications").json()
    assert closed["status"] == "closed" == trail["status"]
    messages: list[dict[str, Any]] = trail["messages"]
    assert [(m["seq"], m["action"], m["author"]["national_id"]) for m in messages] == [
        (1, "open", contractor), (2, "reply", support), (3, "close", contractor)]
    assert messages[1]["author"]["role"] == "support" and messages[1]["text"].startswith("پین توکن")
    assert all(m["at_jalali"].startswith("1400/") and m["at"].endswith("+00:00") for m in messages)
    # The contractor was texted that its request was answered (portal inbox = outbox, once).
    assert [m["template"] for m in portal["messages"]].count("support_reply") == 1
    # Without a session nothing is read.
    with stations.public() as api, pytest.raises(DomainError) as anonymous:
        api.get(f"/v1/support/requests/{request_id}")
    assert anonymous.value.reason is Reason.NOT_AUTHENTICATED
