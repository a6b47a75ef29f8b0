"""Issue 13 benchmark, issue 15 item 5 (R13, R18, R28, R29): the payment gate reads the store with
prebuilt statements (services.transactions_view) and decides on one connection in one transaction.

1. The store's answers are those of the unit-of-work reading they replaced (`UnitOfWorkReference` below, the
   repositories' reads as they were), for contracts with and without registry lines, approved and
   unapproved factors, settled and unsettled statements, verified and refused signatures; on the
   reader's own connections and on a caller's (`on_connection`).
2. A payment decision of the in-process financial stub takes one connection and one transaction,
   refusals included; exactly once holds, and a payment that loses the race to the unique statement
   is refused DUPLICATE_PAYMENT, kept once, in a new transaction.
3. A decision is as many requests to the database as the raw floor's (BEGIN, one read, one write,
   COMMIT): the contract, its registration and the statement are one read, and the payments are not
   read first; when a payment holds the key or the statement, the write finds it and the decision is
   taken again reading them first, with the answers it always had (a replay is the payment, nothing kept)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select, update

from domain.contract.payment_data import RegistrationView
from domain.contract.statement import SETTLED
from domain.reasons import DomainError, Reason
from integrations.financial import PaymentRequest
from integrations.transactions_api import ContractInfo, StatementInfo
from services.signers import COMPANY_SIGNATORY
from store import models as m
from store.contract_registries import registries
from store.stub_tables import ExtFinancialRefusal, ExtPayment, create_stub_tables
from store.uow import UnitOfWork

AT = datetime(2021, 7, 11, 6, 30, tzinfo=timezone.utc)
XML = b"<statement ref='s1'/>"
CODES = ["C-0", "C-1", "C-2", "C-3", " C-0 ", "", "   ", "C-UNKNOWN"]
STATEMENTS = ["T0/s1", "T0/s2", "T0/s3", "T1/s1", "T4/s1", "T0/", "/s1", "s1", "", "T9/s1", "T0/s9"]


def _seed(sessions) -> None:
    with UnitOfWork(sessions) as uow:
        uow.session.add(m.Unit(id="district-12", code="12", name="منطقهٔ ۱۲", kind="district"))
        uow.session.flush()
        kept = registries(uow)
        kept.add_budget_line("district-12", "BL", "G-BL", "آسفالت", AT)
        kept.add_expense_factor("EF", "نگهداری", AT).approved_at = AT
        kept.add_expense_factor("EF2", "تازه", AT)  # waits for the committee
        rows = [("T0", "C-0", "final", "BL", "EF", {"fields": {"subject": "آسفالت", "budget_allocation_code": "TA-1"},
                                                     "nature": "expense"}),
                ("T1", "C-1", "treasurer", "BL", "EF2", {"fields": {}}),
                ("T2", "C-2", "final", "BL-NOT-KEPT", None, {}),
                ("T3", "C-3", "final", None, "EF-UNKNOWN", {"nature": "income"}),
                ("T4", None, "budget", "BL", "EF", {})]
        contracts = {}
        for tracking, code, stage, line, factor, data in rows:
            contracts[tracking] = uow.contracts.add(m.Contract(
                tracking_number=tracking, code=code, unit_id="district-12", kind="works", stage=stage,
                amount_rial=5_000_000, contractor_id="50752917036", budget_line=line, expense_factor=factor,
                data_json=json.dumps(data, ensure_ascii=False)))
        uow.session.flush()
        for tracking, ref, seq, result, xml in [("T0", "s1", 1, "approved", XML), ("T0", "s2", 2, "halted", None),
                                                ("T0", "s3", 3, "in_review", XML), ("T1", "s1", 1, "refused", XML),
                                                ("T4", "s1", 1, "approved", XML)]:
            uow.session.add(m.StatusStatement(contract_id=contracts[tracking].id, ref=ref, seq=seq, at=AT,
                                              cumulative_rial=1_000_000, gross_rial=1_000_000, payable_rial=900_000,
                                              result=result, xml=xml))
        for doc, nid, role, reason in [("T0/s1", "0000000001", COMPANY_SIGNATORY, None),
                                       ("T0/s1", "0000000002", "treasurer", None),
                                       ("T1/s1", "0000000001", COMPANY_SIGNATORY, None),
                                       ("T1/s1", "0000000002", "treasurer", "CERT_REVOKED"),
                                       ("T0/s2", "0000000002", "treasurer", None)]:
            uow.session.add(m.SignatureRow(document_kind="status_statement", document_id=doc, signer_national_id=nid,
                                           role=role, cert_serial="01", signed_at=AT, reason=reason))
        uow.commit()


# --- the unit-of-work reading the prebuilt statements replaced -------------------------------------

class UnitOfWorkReference:
    """The store's reads as they were before their prebuilt statements (services.transactions_view): an
    ORM unit of work per answer. The test below and bench/bench_payment_ocds.py hold the new reads to
    these answers."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    def contract_by_code(self, code: str) -> ContractInfo | None:
        if not code or not str(code).strip():
            return None
        with UnitOfWork(self.sessions) as uow:
            row = uow.contracts.by_code(str(code).strip())
            if row is None:
                return None
            data = json.loads(row.data_json or "{}")
            return ContractInfo(code=row.code or "", tracking_number=row.tracking_number, unit=row.unit_id,
                                stage=row.stage, amount_rial=row.amount_rial, budget_line=row.budget_line or "",
                                expense_factor=row.expense_factor or "", contractor_company_id=row.contractor_id,
                                title=data.get("fields", {}).get("subject", ""),
                                nature=data.get("nature") or "expense")

    def registration(self, code: str) -> RegistrationView | None:
        if not code or not str(code).strip():
            return None
        with UnitOfWork(self.sessions) as uow:
            row = uow.contracts.by_code(str(code).strip())
            if row is None:
                return None
            kept = registries(uow)
            line = kept.budget_line(row.unit_id, row.budget_line) if row.budget_line else None
            factor = kept.expense_factor(row.expense_factor) if row.expense_factor else None
            fields = json.loads(row.data_json or "{}").get("fields", {})
            return RegistrationView(code=row.code, stage=row.stage, budget_line=row.budget_line or "",
                                    budget_general_code=(line.general_code or "") if line is not None else "",
                                    expense_factor=row.expense_factor or "",
                                    expense_factor_approved=factor is not None and factor.approved_at is not None,
                                    budget_allocation_code=str(fields.get("budget_allocation_code") or ""))

    def statement(self, statement_id: str) -> StatementInfo | None:
        tracking, sep, ref = str(statement_id or "").rpartition("/")
        if not sep or not tracking or not ref:
            return None
        with UnitOfWork(self.sessions) as uow:
            contract = uow.contracts.by_tracking(tracking)
            if contract is None:
                return None
            row = uow.statements.by_ref(contract.id, ref)
            if row is None or row.result not in SETTLED:
                return None
            roles = {s.role for s in uow.minutes.signatures("status_statement", statement_id) if s.reason is None}
            return StatementInfo(id=statement_id, contract_code=contract.code or "", result=row.result,  # type: ignore[arg-type]
                                 payable_rial=row.payable_rial if row.result == "approved" else 0,
                                 signed_by_contractor=COMPANY_SIGNATORY in roles,
                                 signed_by_treasurer="treasurer" in roles, signed_xml=row.xml or b"")


@pytest.fixture
def store(engine, sessions):
    create_stub_tables(engine)
    _seed(sessions)
    return sessions


def test_r29_prebuilt_reads_give_the_unit_of_work_answers(engine, store):
    from services.transactions_view import StoreTransactionsSystem

    def answers(view) -> list[object]:
        return ([view.contract_by_code(code) for code in CODES] + [view.registration(code) for code in CODES]
                + [view.statement(sid) for sid in STATEMENTS])

    expected = answers(UnitOfWorkReference(store))
    reader = StoreTransactionsSystem(store)
    assert answers(reader) == expected
    with engine.connect() as conn:  # (on SQLite this connection holds the write lock: no other reads meanwhile)
        on_conn = reader.on_connection(engine, conn)
        assert on_conn is not None
        got = answers(on_conn)
    assert got == expected
    # Told the statement it will be asked for, a reader on a connection reads the contract (with its
    # registration) and that statement in one SELECT: the same answers, first asked either way.
    reference = UnitOfWorkReference(store)
    registrations, contracts = ({code: read(code) for code in CODES}
                                for read in (reference.registration, reference.contract_by_code))
    statements = {sid: reference.statement(sid) for sid in STATEMENTS}
    with engine.connect() as conn:
        for code in CODES:
            for sid in STATEMENTS:
                one = reader.on_connection(engine, conn, statement_id=sid)
                assert one is not None
                assert (one.registration(code), one.contract_by_code(code), one.statement(sid)) == \
                    (registrations[code], contracts[code], statements[sid]), (code, sid)
                one = reader.on_connection(engine, conn, statement_id=sid)
                assert one is not None
                assert (one.contract_by_code(code), one.statement(sid), one.registration(code)) == \
                    (contracts[code], statements[sid], registrations[code]), (code, sid)
    # the answers are not all alike: the comparison above covers every branch
    c0, c1, c2, c3 = (reader.registration(code) for code in ("C-0", "C-1", "C-2", "C-3"))
    assert c0 is not None and c0.budget_general_code == "G-BL" and c0.expense_factor_approved
    assert c1 is not None and not c1.expense_factor_approved
    assert c2 is not None and c2.budget_general_code == "" and c3 is not None and not c3.expense_factor_approved
    income = reader.contract_by_code("C-3")
    assert income is not None and income.nature == "income"
    s1 = reader.statement("T0/s1")
    assert s1 is not None and s1.signed_by_contractor and s1.signed_by_treasurer and s1.payable_rial == 900_000
    t1 = reader.statement("T1/s1")
    assert t1 is not None and t1.signed_by_contractor and not t1.signed_by_treasurer
    assert reader.statement("T0/s3") is None and reader.statement("T4/s1") is not None


def test_r29_a_reader_binds_only_to_its_own_engine(engine, store, tmp_path):
    from services.transactions_view import StoreTransactionsSystem
    from store.db import make_engine

    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with other.connect() as conn:
            assert StoreTransactionsSystem(store).on_connection(other, conn) is None
    finally:
        other.dispose()


def _request(**changes) -> PaymentRequest:
    base = {"payment_key": "p1", "contract_code": "C-0", "statement_id": "T0/s1", "budget_line": "BL",
            "expense_factor": "EF", "amount_rial": 900_000, "budget_allocation_code": "TA-1"}
    return PaymentRequest(**{**base, **changes})


def _reason(call, *args) -> Reason:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.reason


def test_r13_a_payment_decision_is_one_connection_and_one_transaction(engine, store, clock):
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    reader = StoreTransactionsSystem(store)
    stub = FinancialSystemStub(engine, reader, clock, registrations=reader)
    seen = {"checkout": 0, "begin": 0}

    def count(name):
        def listener(*_args):
            seen[name] += 1
        event.listen(engine, name, listener)
        return lambda: event.remove(engine, name, listener)

    removers = [count("checkout"), count("begin")]
    try:
        decisions = [(_request(contract_code="C-1"), Reason.CONTRACT_NOT_FINAL),       # registration refused
                     (_request(statement_id="T0/s2"), Reason.STATEMENT_NOT_APPROVED),  # the gate refused
                     (_request(), None),                                               # paid
                     (_request(), None),                                               # the same payment again
                     (_request(payment_key="p2"), Reason.DUPLICATE_PAYMENT)]
        for req, reason in decisions:
            seen.update(checkout=0, begin=0)
            if reason is None:
                assert stub.pay(req).payment_key == "p1"
            else:
                assert _reason(stub.pay, req) is reason
            assert seen == {"checkout": 1, "begin": 1}, (req, seen)
    finally:
        for remove in removers:
            remove()
    assert [r.reason for r in stub.refused_attempts()] == ["CONTRACT_NOT_FINAL", "STATEMENT_NOT_APPROVED",
                                                           "DUPLICATE_PAYMENT"]
    assert [p.payment_key for p in stub.payments()] == ["p1"]


def test_r18_a_payment_losing_the_race_is_refused_once_in_a_new_transaction(engine, store, clock, monkeypatch):
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    reader = StoreTransactionsSystem(store)
    stub = FinancialSystemStub(engine, reader, clock, registrations=reader)
    paid = stub.pay(_request())
    check = FinancialSystemStub._check
    # The race window: the decision's read saw the statement unpaid; the unique statement must refuse.
    monkeypatch.setattr(FinancialSystemStub, "_check", lambda self, d, req, _paid: check(self, d, req, False))
    with pytest.raises(DomainError) as caught:
        stub.pay(_request(payment_key="p2"))
    assert caught.value.reason is Reason.DUPLICATE_PAYMENT and caught.value.detail == "statement=T0/s1"
    assert stub.pay(_request()) == paid  # our own retry is the same payment
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExtPayment)) == 1
        assert conn.execute(select(ExtFinancialRefusal.reason, ExtFinancialRefusal.request_key)).all() == [
            ("DUPLICATE_PAYMENT", "p2")]


def test_r13_a_refusal_and_the_reads_commit_together(engine, store, clock):
    """A refusal kept by the in-process gate is committed with its decision (visible to a new connection)."""
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    reader = StoreTransactionsSystem(store)
    stub = FinancialSystemStub(engine, reader, clock, registrations=reader)
    assert _reason(stub.pay, _request(contract_code="C-UNKNOWN")) is Reason.NO_CONTRACT_CODE
    assert _reason(stub.pay, _request(statement_id="T1/s1")) is Reason.INVALID_INPUT  # another contract's
    with engine.connect() as conn:
        rows = conn.execute(select(ExtFinancialRefusal.reason, ExtFinancialRefusal.contract_code)
                            .order_by(ExtFinancialRefusal.id)).all()
    assert rows == [("NO_CONTRACT_CODE", "C-UNKNOWN"), ("INVALID_INPUT", "C-0")]


def driver_requests(engine, call, unprepared: bool = True) -> int:
    """Requests `call` sent to the database, counted by the driver (every statement, whoever runs it):
    sqlite3's trace callback (BEGIN IMMEDIATE, each statement, COMMIT), libpq's trace on PostgreSQL (one
    ReadyForQuery a request; the pool's ping, made before the checkout event, counted with it).
    `unprepared`: psycopg does not prepare statements run often (preparing is one request more, once).
    The connections checked out keep counting as they are: not for use after the call. Also used by
    bench/bench_payment_ocds.py."""
    import tempfile

    count, traces = [0], []

    def on_checkout(dbapi_conn, _record, _proxy) -> None:
        if engine.dialect.name == "sqlite":
            dbapi_conn.set_trace_callback(lambda _sql: count.__setitem__(0, count[0] + 1))
        else:
            if unprepared:
                dbapi_conn.prepare_threshold = None
            traces.append(tempfile.TemporaryFile("w+"))
            dbapi_conn.pgconn.trace(traces[-1].fileno())
            count[0] += 1 if engine.pool._pre_ping else 0  # the ping ran before this event

    def on_checkin(dbapi_conn, _record) -> None:
        if engine.dialect.name == "sqlite":
            dbapi_conn.set_trace_callback(None)
        else:
            dbapi_conn.pgconn.untrace()

    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine.pool, "checkin", on_checkin)
    try:
        call()
    finally:
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine.pool, "checkin", on_checkin)
    for trace in traces:
        trace.seek(0)
        count[0] += sum(1 for line in trace if "\tB\t" in line and "ReadyForQuery" in line)
        trace.close()
    return count[0]


def test_r13_a_decision_is_as_many_requests_as_a_read_and_a_write(engine, store, clock):
    """The raw floor of a decision: BEGIN, one read, one write, COMMIT (+ the ping on PostgreSQL)."""
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    reader = StoreTransactionsSystem(store)
    stub = FinancialSystemStub(engine, reader, clock, registrations=reader)
    floor = 4 if engine.dialect.name == "sqlite" else 5
    for req, reason in [(_request(contract_code="C-1"), Reason.CONTRACT_NOT_FINAL),       # registration refused
                        (_request(statement_id="T0/s2"), Reason.STATEMENT_NOT_APPROVED),  # the gate refused
                        (_request(statement_id="T0/s9"), Reason.INVALID_INPUT),           # no such statement
                        (_request(amount_rial=1), Reason.AMOUNT_OUT_OF_RANGE),            # the last check
                        (_request(), None)]:                                              # paid
        got: list[Reason | None] = []

        def decide(req: PaymentRequest = req, expected: Reason | None = reason, got: list = got) -> None:
            got.append(_reason(stub.pay, req) if expected is not None else stub.pay(req) and None)
        assert (driver_requests(engine, decide), got) == (floor, [reason]), req
    # A replay reads the payments once its write finds the key taken: one read and one write more.
    assert driver_requests(engine, lambda: stub.pay(_request())) == floor + 1
    assert [r.reason for r in stub.refused_attempts()] == ["CONTRACT_NOT_FINAL", "STATEMENT_NOT_APPROVED",
                                                           "INVALID_INPUT", "AMOUNT_OUT_OF_RANGE"]


def test_r18_a_refusal_that_assumed_nothing_paid_gives_way_to_the_payment(engine, store, clock):
    """Paid; another key with a wrong amount is DUPLICATE_PAYMENT (the gate's order). Then the treasurer's
    signature found revoked: the gate alone would refuse STATEMENT_NOT_SIGNED.
    The same request (same key) is still that payment and nothing is kept; another key is refused
    STATEMENT_NOT_SIGNED (before DUPLICATE_PAYMENT in the gate's order), kept once; as before the
    payments were no longer read first. Each in one transaction."""
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    reader = StoreTransactionsSystem(store)
    stub = FinancialSystemStub(engine, reader, clock, registrations=reader)
    paid = stub.pay(_request())
    # Another key with a wrong amount: the gate's DUPLICATE_PAYMENT comes before the amount's check.
    with pytest.raises(DomainError) as caught:
        stub.pay(_request(payment_key="p3", amount_rial=1))
    assert (caught.value.reason, caught.value.detail) == (Reason.DUPLICATE_PAYMENT, "صورت‌وضعیت T0/s1")
    with engine.begin() as conn:
        conn.execute(update(m.SignatureRow).where(m.SignatureRow.document_id == "T0/s1",
                                                  m.SignatureRow.role == "treasurer").values(reason="CERT_REVOKED"))
    begins = [0]

    def begin(*_args) -> None:
        begins[0] += 1
    event.listen(engine, "begin", begin)
    try:
        assert stub.pay(_request()) == paid
        assert _reason(stub.pay, _request(payment_key="p2")) is Reason.STATEMENT_NOT_SIGNED
        assert _reason(stub.pay, _request(payment_key="p1", amount_rial=1)) is Reason.INVALID_INPUT  # key reused
    finally:
        event.remove(engine, "begin", begin)
    assert begins[0] == 3
    assert [(r.reason, r.request_key) for r in stub.refused_attempts()] == [
        ("DUPLICATE_PAYMENT", "p3"), ("STATEMENT_NOT_SIGNED", "p2"), ("INVALID_INPUT", "p1")]
    assert [p.payment_key for p in stub.payments()] == ["p1"]
