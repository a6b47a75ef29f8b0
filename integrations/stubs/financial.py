"""Financial-system stub that enforces the rules the real one must (R13, R17, R18, R20, R28, R29).

It trusts no caller: the contract and the statement are fetched from the transactions system by
code and id. Checks, in order: the contract (integrations.transactions_api.usable_contract:
NO_CONTRACT_CODE, CONTRACT_NOT_FINAL, a code unknown to the transactions system counting as none),
the statement exists and belongs to that contract (INVALID_INPUT), then the payment gate
(domain.contract.payment.check_payment: STATEMENT_NOT_APPROVED, STATEMENT_NOT_SIGNED, BUDGET_LINE_MISSING,
EXPENSE_FACTOR_MISSING, DUPLICATE_PAYMENT for a payment), the budget line and expense factor equal to
the contract's (INVALID_INPUT), the signed statement well formed (MALFORMED_XML), and the amount
equal to the statement's payable (AMOUNT_OUT_OF_RANGE). Every refusal is kept.

R28/R29, with `registrations` (the transactions system's registration of a contract by code: the HTTP
service's reader, or services.transactions_view.StoreTransactionsSystem in process): the contract's
complete registration (domain.contract.payment_data.check_registration_complete) is checked when the
contract is notified to the contractor (`contract_notified`), before every expense document (R13)
and, with the payment's class and budget-allocation code (check_payment_data), before every payment.
Without `registrations` (a
rehearsal whose contracts were registered without the budget-line and expense-factor registries) a
notification checks what the contract itself holds (code, `final`, budget line, expense factor) and a
payment its class; the payment gate is the same either way.

When the transactions system reads this stub's own database (services.transactions_view.
StoreTransactionsSystem on the same engine: a ConnectionReader), a decision (a payment, an expense
document, a notification) is one connection and one transaction: its reads, and the payment or the
refusal it records, commit together, with statements built once at import. The transactions system
reads the contract, its registration and the statement in one SELECT; a payment is decided as if
nothing were paid under its key or for its statement, which its write checks: the payment is
inserted only when no row holds its key or statement (ON CONFLICT DO NOTHING), a refusal only when no
payment does (INSERT ... SELECT ... WHERE NOT EXISTS); otherwise the decision is taken again in the
same transaction, the payments read first, as before (same answers, one read fewer). A new row refused
by a unique key (a race lost to another request) rolls the decision back and is decided again in a new
transaction: the same request under the same key is that row, a statement paid under another key is
DUPLICATE_PAYMENT. Over another reader (HTTP, in memory) each local read and write is its own transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from sqlalchemy import Connection, Engine, Row, Table, bindparam, exists, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.clock import Clock
from domain.contract.payment import ContractView, StatementView, check_payment, check_payment_lines
from domain.contract.payment_data import (
    RegistrationView,
    check_payment_class,
    check_payment_data,
    check_registration_complete,
)
from domain.money import check_rial
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from integrations.financial import (
    ExpenseDocument,
    ExpenseDocumentRequest,
    PaymentRecord,
    PaymentRequest,
    ReceiptRecord,
    ReceiptRequest,
    RefusedAttempt,
    StatementCharge,
)
from integrations.stubs._db import TransactionsReadingStub, inserted, is_blank, sha256_hex
from integrations.transactions_api import ContractInfo, StatementInfo, TransactionsSystem, usable_contract
from store.models import ExtFinReceipt
from store.stub_tables import ExtExpenseDocument, ExtFinancialRefusal, ExtPayment

_CHARGE_FIELDS = tuple(f.name for f in fields(StatementCharge))
# Built once: every decision runs them (building a statement costs more than running it).
_PAYMENTS = cast(Table, ExtPayment.__table__)
_DOCUMENTS = cast(Table, ExtExpenseDocument.__table__)
_PAYMENTS_BY_KEY_OR_STATEMENT = select(_PAYMENTS).where(
    or_(_PAYMENTS.c.payment_key == bindparam("key"), _PAYMENTS.c.statement_id == bindparam("statement_id")))
_PAYMENT_BY_KEY = select(_PAYMENTS).where(_PAYMENTS.c.payment_key == bindparam("key"))
_PAYMENT_OF_STATEMENT = select(_PAYMENTS.c.id).where(_PAYMENTS.c.statement_id == bindparam("statement_id"))
_DOCUMENT_BY_KEY = select(_DOCUMENTS).where(_DOCUMENTS.c.document_key == bindparam("key"))
_INSERT_PAYMENT = insert(_PAYMENTS)
_INSERT_DOCUMENT = insert(_DOCUMENTS)
_REFUSALS = cast(Table, ExtFinancialRefusal.__table__)
_REFUSAL_VALUES = [c for c in _REFUSALS.c if c.name != "id"]
# A payment decided without reading the payments first (module docstring): the payment, inserted only
# when no row holds its key or its statement (each dialect's ON CONFLICT DO NOTHING: 0 rows then)...
# (preserve_rowcount: the row count of an INSERT is kept for every driver.)
_INSERT_PAYMENT_IF_NEW = {
    "postgresql": postgresql.insert(_PAYMENTS).on_conflict_do_nothing().execution_options(preserve_rowcount=True),
    "sqlite": sqlite.insert(_PAYMENTS).on_conflict_do_nothing().execution_options(preserve_rowcount=True)}
_INSERT_REFUSAL = insert(_REFUSALS).values({c.name: bindparam(c.name, type_=c.type) for c in _REFUSAL_VALUES})
# ...or its refusal, inserted only when no payment holds its key (paid_key) or its statement (paid_statement_id).
_INSERT_REFUSAL_IF_UNPAID = insert(_REFUSALS).from_select(
    [c.name for c in _REFUSAL_VALUES],
    select(*(bindparam(c.name, type_=c.type) for c in _REFUSAL_VALUES)).where(~exists().where(or_(
        _PAYMENTS.c.payment_key == bindparam("paid_key"),
        _PAYMENTS.c.statement_id == bindparam("paid_statement_id"))))).execution_options(preserve_rowcount=True)
_Req = TypeVar("_Req", bound="StatementCharge | _Notification")
_Out = TypeVar("_Out")


@dataclass(frozen=True)
class _Checked:
    contract: ContractInfo
    statement: StatementInfo
    xml_sha256: str


class RegistrationReader(Protocol):
    def registration(self, code: str) -> RegistrationView | None:
        """The registration of the contract under exactly this code, or None."""
        ...


@runtime_checkable
class ConnectionReader(Protocol):
    """A transactions system (and registration reader) on the stub's own database, which can run its
    reads on the stub's connection: a decision is then one connection and one transaction."""

    def on_connection(self, engine: Engine, conn: Connection, *, statement_id: str | None = None) -> Any:
        """The same reader running its reads on `conn` (of `engine`), or None when `engine` is not its
        own; `statement_id`: the statement the decision will ask for (it may be read with the contract)."""
        ...


@dataclass
class _Decision:
    """One decision's readers and its connection: `conn` when the readers read on it (everything the
    decision reads and writes is one transaction), else None (each local read or write its own).

    read_payments_first: a payment reads the payments under its key and statement before deciding (as
    always without `conn`); when False, it decides as if there were none, and `assumed_unpaid` holds the
    (payment key, statement id) its write must find unpaid (module docstring)."""

    engine: Engine
    conn: Connection | None
    transactions: TransactionsSystem
    registrations: RegistrationReader | None
    read_payments_first: bool = True
    assumed_unpaid: tuple[str, str] | None = field(default=None)

    @contextmanager
    def local(self) -> Iterator[Connection]:
        """The connection for the stub's own tables (a transaction of its own when the decision has none)."""
        if self.conn is not None:
            yield self.conn
        else:
            with self.engine.begin() as conn:
                yield conn


class _LostRace(Exception):
    """The new row was refused by a unique key: another request stored its row first."""


class FinancialSystemStub(TransactionsReadingStub):
    def __init__(self, engine: Engine, transactions: TransactionsSystem, clock: Clock, *,
                 registrations: RegistrationReader | None = None) -> None:
        super().__init__(engine, transactions, clock)
        self._engine = engine
        self._registrations = registrations
        self._reads_on_connection = isinstance(transactions, ConnectionReader)

    # --- R28: the contract notified to the contractor -----------------------------------

    def contract_notified(self, contract_code: str) -> dict[str, Any]:
        """The contract was notified to the contractor: its complete registration is checked (see the
        module's docstring for what is checked without `registrations`); a refusal is kept (kind
        `notification`). Calling it again checks again (the engine retries a refused notification).

        Returns {contract_code, result: "complete", registration: {...}, checked_at (RFC 3339 UTC)}.
        Raises: check_registration_complete's reasons (NO_CONTRACT_CODE, CONTRACT_NOT_FINAL,
        BUDGET_LINE_MISSING, EXPENSE_FACTOR_MISSING, FIELD_MISSING); STORE_UNREACHABLE. Rule: R28."""
        subject = "ابلاغ قرارداد به پیمانکار"
        now = self._clock.now()

        def handle(d: _Decision, _req: _Notification) -> dict[str, Any]:
            if d.registrations is not None:
                registration = self._registration(d, contract_code, subject).to_dict()
            else:
                contract = usable_contract(d.transactions, contract_code)
                check_payment_lines(contract.budget_line, contract.expense_factor, subject)
                registration = {"code": contract.code, "stage": contract.stage, "budget_line": contract.budget_line,
                                "expense_factor": contract.expense_factor}
            return {"contract_code": contract_code, "result": "complete", "registration": registration,
                    "checked_at": now.isoformat()}

        return self._decide("notification", contract_code, _Notification(contract_code), handle)

    def registration(self, contract_code: str, subject: str) -> RegistrationView:
        """The contract's registration fetched by code from `registrations`, checked complete.

        Raises: check_registration_complete's reasons (a code the transactions system does not know
        is NO_CONTRACT_CODE); STORE_UNREACHABLE. Rule: R28, R29."""
        return self._registration(_Decision(self._engine, None, self._transactions, self._registrations),
                                  contract_code, subject)

    def _registration(self, d: _Decision, contract_code: str, subject: str) -> RegistrationView:
        assert d.registrations is not None, "registration() needs the stub's registrations reader"
        reg = d.registrations.registration(contract_code)
        if reg is None or reg.code != contract_code:
            usable_contract(d.transactions, contract_code)  # a blank or unknown code counts as none
            raise DomainError(Reason.NO_CONTRACT_CODE, f"کد «{contract_code}» در سامانهٔ معاملات نیست ({subject})")
        check_registration_complete(reg, subject)
        return reg

    # --- public API ---------------------------------------------------------------------

    def record_expense_document(self, req: ExpenseDocumentRequest) -> ExpenseDocument:
        """Record one statement's expense document once (idempotent by `document_key`): with
        `registrations`, the contract's complete registration first (R13: expense documents only once
        every registration stage is complete; R28), then the payment gate's checks.

        Raises: check_registration_complete's reasons, then the gate's (module docstring); each kept."""
        def handle(d: _Decision, r: ExpenseDocumentRequest) -> ExpenseDocument:
            if d.registrations is not None:
                self._registration(d, r.contract_code, f"سند هزینهٔ {r.statement_id}")
            return self._record_expense_document(d, r)

        return self._decide("expense_document", req.document_key, req, handle, self._document_after_lost_race)

    def pay(self, req: PaymentRequest) -> PaymentRecord:
        """Pay one statement once (idempotent by `payment_key`): the payment's data (R28, R29: class,
        complete registration, the contract's budget-allocation code), then the payment gate.

        Raises: check_payment_data's reasons, then the gate's (module docstring); each refusal kept."""
        return self.pay_registered(req)[0]

    def pay_registered(self, req: PaymentRequest) -> tuple[PaymentRecord, RegistrationView | None]:
        """`pay`, with the registration it was checked against (None without `registrations`).

        One decision is one connection and one transaction when the transactions system reads the
        stub's own database (a ConnectionReader on its engine): the reads, and the payment or the
        refusal, commit together."""
        registered: list[RegistrationView | None] = []

        def handle(d: _Decision, r: PaymentRequest) -> PaymentRecord:
            registered.append(self._check_payment_data(d, r))
            return self._pay(d, r)

        return self._decide("payment", req.payment_key, req, handle, self._payment_after_lost_race), registered[-1]

    def _check_payment_data(self, d: _Decision, req: PaymentRequest) -> RegistrationView | None:
        subject = f"پرداخت {req.statement_id}"
        if d.registrations is None:
            check_payment_class(req.payment_class)
            return None
        reg = d.registrations.registration(req.contract_code)
        if reg is None or reg.code != req.contract_code:
            check_payment_class(req.payment_class)
            self._registration(d, req.contract_code, subject)  # refuses: no code, unknown code
        assert reg is not None
        check_payment_data(reg, req.payment_class, req.budget_allocation_code, subject)
        return reg

    def payment_for_statement(self, statement_id: str) -> PaymentRecord | None:
        with self._sessions() as session:
            row = self._existing_payment_for_statement(session, statement_id)
            return _payment(row) if row else None

    def payments(self, contract_code: str | None = None) -> list[PaymentRecord]:
        with self._sessions() as session:
            query = select(ExtPayment).order_by(ExtPayment.id)
            if contract_code is not None:
                query = query.where(ExtPayment.contract_code == contract_code)
            return [_payment(row) for row in session.scalars(query)]

    def refused_attempts(self, contract_code: str | None = None) -> list[RefusedAttempt]:
        with self._sessions() as session:
            query = select(ExtFinancialRefusal).order_by(ExtFinancialRefusal.id)
            if contract_code is not None:
                query = query.where(ExtFinancialRefusal.contract_code == contract_code)
            return [RefusedAttempt(kind=r.kind, request_key=r.request_key,
                                   contract_code=r.contract_code, statement_id=r.statement_id,
                                   amount_rial=r.amount_rial, reason=r.reason, detail=r.detail,
                                   attempted_at=r.attempted_at)
                    for r in session.scalars(query)]

    # --- receipts on income contracts (R30) ----------------------------------------------

    def record_receipt(self, req: ReceiptRequest) -> ReceiptRecord:
        """Record money received on an income contract, fetched by its code from the transactions system;
        idempotent by `receipt_key` (the same request again returns the same record).

        Raises (each refusal kept for the refused-payments report, kind `receipt`): INVALID_INPUT (blank
        key, a key reused for another receipt, an expense contract, an amount above what the contract
        still has due), NO_CONTRACT_CODE, CONTRACT_NOT_FINAL (as for a payment), AMOUNT_OUT_OF_RANGE.
        Rule: R30; tender-rules.md "Transaction kinds and procedures" (income contracts)."""
        try:
            return self._record_receipt(req)
        except DomainError as err:
            self._record_receipt_refusal(req, err)
            raise

    def receipts(self, contract_code: str | None = None) -> list[ReceiptRecord]:
        """Recorded receipts, oldest first; of one contract when `contract_code` is given."""
        with self._sessions() as session:
            query = select(ExtFinReceipt).order_by(ExtFinReceipt.id)
            if contract_code is not None:
                query = query.where(ExtFinReceipt.contract_code == contract_code)
            return [_receipt(row) for row in session.scalars(query)]

    def _record_receipt(self, req: ReceiptRequest) -> ReceiptRecord:
        _require_key(req.receipt_key, "receipt_key")
        by_key = select(ExtFinReceipt).where(ExtFinReceipt.receipt_key == req.receipt_key)
        with self._sessions() as session:
            previous = session.scalar(by_key)
        if previous is not None:
            if (previous.contract_code, previous.amount_rial, previous.received_at) != \
                    (req.contract_code, req.amount_rial, req.received_at):
                raise DomainError(Reason.INVALID_INPUT, f"کلید دریافت {req.receipt_key} با درخواست دیگری به کار رفته است")
            return _receipt(previous)
        # The contract first, exactly as for a payment: nothing is recorded without a code or before `final`.
        contract = usable_contract(self._transactions, req.contract_code)
        if getattr(contract, "nature", "income") == "expense":  # when the transactions system states it
            raise DomainError(Reason.INVALID_INPUT, f"قرارداد {contract.code} هزینه‌ای است و دریافت ندارد")
        check_rial(req.amount_rial, field="amount_rial")
        if req.amount_rial <= 0:
            raise DomainError(Reason.AMOUNT_OUT_OF_RANGE, "مبلغ دریافت باید مثبت باشد")
        with self._sessions() as session:
            received = sum(r.amount_rial for r in session.scalars(
                select(ExtFinReceipt).where(ExtFinReceipt.contract_code == contract.code)))
        if received + req.amount_rial > contract.amount_rial:
            raise DomainError(Reason.INVALID_INPUT,
                              f"دریافت {req.amount_rial} بیش از ماندهٔ قرارداد {contract.amount_rial - received} است")
        row = ExtFinReceipt(receipt_key=req.receipt_key, contract_code=contract.code, amount_rial=req.amount_rial,
                            received_at=req.received_at, recorded_at=self._clock.now())
        with self._sessions() as session:
            if inserted(session, row):
                return _receipt(row)
        with self._sessions() as session:  # lost a race to our own retry under the same key
            winner = session.scalar(by_key)
        if winner is None:
            raise DomainError(Reason.STORE_UNREACHABLE, "receipt insert failed without a conflicting row")
        return _receipt(winner)

    def _record_receipt_refusal(self, req: ReceiptRequest, err: DomainError) -> None:
        amount_rial: object = req.amount_rial
        amount = amount_rial if isinstance(amount_rial, int) and not isinstance(amount_rial, bool) else None
        with self._sessions() as session:
            session.add(ExtFinancialRefusal(kind="receipt", request_key=str(req.receipt_key or ""),
                                            contract_code=str(req.contract_code or ""), statement_id="",
                                            amount_rial=amount, reason=err.reason.value, detail=err.detail,
                                            attempted_at=self._clock.now()))
            session.commit()

    # --- payment and expense document ---------------------------------------------------

    def _pay(self, d: _Decision, req: PaymentRequest) -> PaymentRecord:
        _require_key(req.payment_key, "payment_key")
        if not d.read_payments_first:
            # As if nothing were paid under this key or for this statement; the write checks it. When
            # something is, the payment is not inserted (nor, on a refusal, the refusal: _decide_once)
            # and the decision is taken again below, in the same transaction, the payments read first.
            d.assumed_unpaid = (req.payment_key, req.statement_id)
            checked = self._check(d, req, False)
            values = {"payment_key": req.payment_key, **_charge_of(req), "statement_xml_sha256": checked.xml_sha256,
                      "paid_at": self._clock.now()}
            if _insert_if_new(d, values):
                return PaymentRecord(**values)
            d.read_payments_first, d.assumed_unpaid = True, None
        with d.local() as conn:
            # One read: the payment stored under this key, and whether this statement was paid.
            rows = conn.execute(_PAYMENTS_BY_KEY_OR_STATEMENT, {"key": req.payment_key,
                                                                "statement_id": req.statement_id}).all()
        previous = next((r for r in rows if r.payment_key == req.payment_key), None)
        if previous is not None:
            return _payment(_same_request_or_refuse(previous, req, f"کلید پرداخت {req.payment_key}"))
        checked = self._check(d, req, any(r.statement_id == req.statement_id for r in rows))
        values = {"payment_key": req.payment_key, **_charge_of(req), "statement_xml_sha256": checked.xml_sha256,
                  "paid_at": self._clock.now()}
        _insert_once(d, _INSERT_PAYMENT, values)
        return PaymentRecord(**values)

    def _payment_after_lost_race(self, d: _Decision, req: PaymentRequest) -> PaymentRecord:
        """Our own retry may have won under the same key; else another request (another key) paid the statement."""
        with d.local() as conn:
            winner = conn.execute(_PAYMENT_BY_KEY, {"key": req.payment_key}).first()
            paid = winner is None and conn.execute(_PAYMENT_OF_STATEMENT,
                                                   {"statement_id": req.statement_id}).first() is not None
        if winner is not None:
            return _payment(_same_request_or_refuse(winner, req, f"کلید پرداخت {req.payment_key}"))
        if paid:
            raise DomainError(Reason.DUPLICATE_PAYMENT, f"statement={req.statement_id}")
        raise DomainError(Reason.STORE_UNREACHABLE, "payment insert failed without a conflicting row")

    def _existing_payment_for_statement(self, session: Session, statement_id: str) -> ExtPayment | None:
        return session.scalar(select(ExtPayment).where(ExtPayment.statement_id == statement_id))

    def _record_expense_document(self, d: _Decision, req: ExpenseDocumentRequest) -> ExpenseDocument:
        _require_key(req.document_key, "document_key")
        with d.local() as conn:
            previous = conn.execute(_DOCUMENT_BY_KEY, {"key": req.document_key}).first()
        if previous is not None:
            return _document(_same_request_or_refuse(previous, req, f"کلید سند {req.document_key}"))
        # Expense documents are unique per statement by the schema; only payments ask "paid before?".
        checked = self._check(d, req, False)
        values = {"document_key": req.document_key, **_charge_of(req), "statement_xml_sha256": checked.xml_sha256,
                  "recorded_at": self._clock.now()}
        _insert_once(d, _INSERT_DOCUMENT, values)
        return ExpenseDocument(**values)

    def _document_after_lost_race(self, d: _Decision, req: ExpenseDocumentRequest) -> ExpenseDocument:
        """Our own retry may have won under the same key; else the statement already has its document."""
        with d.local() as conn:
            winner = conn.execute(_DOCUMENT_BY_KEY, {"key": req.document_key}).first()
        if winner is not None:
            return _document(_same_request_or_refuse(winner, req, f"کلید سند {req.document_key}"))
        raise DomainError(Reason.INVALID_INPUT,
                          f"برای صورت‌وضعیت {req.statement_id} سند هزینه قبلاً ثبت شده است")

    # --- the rules ----------------------------------------------------------------------

    def _check(self, d: _Decision, req: StatementCharge, already_paid: bool) -> _Checked:
        # The contract first: nothing about the statement is looked at for a contract without a code.
        # Fetched by code even when its registration was (R28: the contract itself is what is paid on).
        contract = usable_contract(d.transactions, req.contract_code)

        statement = d.transactions.statement(req.statement_id) if not is_blank(req.statement_id) else None
        if statement is None:
            raise DomainError(Reason.INVALID_INPUT, f"صورت‌وضعیت «{req.statement_id}» در سامانهٔ معاملات نیست")
        if statement.contract_code != req.contract_code:
            raise DomainError(Reason.INVALID_INPUT,
                              f"صورت‌وضعیت {req.statement_id} متعلق به قرارداد {statement.contract_code} است")
        # Without its signed document a statement carries no signature at all; a line missing on the
        # contract is as missing as one missing from the request.
        has_document = bool(statement.signed_xml)
        check_payment(ContractView(contract.code, contract.stage),
                      StatementView(statement.id, statement.result,
                                    treasurer_signed=statement.signed_by_treasurer and has_document,
                                    contractor_signed=statement.signed_by_contractor and has_document),
                      req.budget_line if not is_blank(contract.budget_line) else "",
                      req.expense_factor if not is_blank(contract.expense_factor) else "", already_paid)
        _same_as_contract(req.budget_line, contract.budget_line, "ردیف بودجه")
        _same_as_contract(req.expense_factor, contract.expense_factor, "عامل هزینه")
        parse_untrusted(statement.signed_xml)  # payments flow only from well-formed signed data

        check_rial(req.amount_rial, field="amount_rial")
        if req.amount_rial != statement.payable_rial:
            raise DomainError(Reason.AMOUNT_OUT_OF_RANGE,
                              f"مبلغ درخواست {req.amount_rial} با مبلغ قابل پرداخت صورت‌وضعیت "
                              f"{statement.payable_rial} برابر نیست")
        return _Checked(contract, statement, sha256_hex(statement.signed_xml))

    # --- one decision ---------------------------------------------------------------------

    @contextmanager
    def _decision(self, statement_id: str) -> Iterator[_Decision]:
        """The decision's readers on one connection and in one transaction (committed when the block
        ends without an exception) when the transactions system reads this database; else as they are.
        `statement_id`: the statement the decision is about ("" for none)."""
        bound = None
        if self._reads_on_connection:
            conn = self._engine.connect()
            bound = cast(ConnectionReader, self._transactions).on_connection(self._engine, conn,
                                                                             statement_id=statement_id)
            if bound is None:
                conn.close()
        if bound is None:
            yield _Decision(self._engine, None, self._transactions, self._registrations)
            return
        registrations = self._registrations
        if registrations is self._transactions:
            registrations = bound
        elif isinstance(registrations, ConnectionReader):
            registrations = registrations.on_connection(self._engine, conn) or registrations
        try:
            with conn.begin():
                yield _Decision(self._engine, conn, bound, registrations,
                                read_payments_first=self._engine.dialect.name not in _INSERT_PAYMENT_IF_NEW)
        finally:
            conn.close()

    def _decide(self, kind: str, key: str, req: _Req, handle: Callable[[_Decision, _Req], _Out],
                after_lost_race: Callable[[_Decision, _Req], _Out] | None = None) -> _Out:
        """`handle(decision, req)` in one decision; a DomainError it raises is kept for the refused-payments
        report in the same transaction, then raised. When the new row lost a race to a unique key, the
        decision is rolled back and `after_lost_race` decides in a new one (its refusal kept as well)."""
        try:
            return self._decide_once(kind, key, req, handle)
        except _LostRace:
            assert after_lost_race is not None
            return self._decide_once(kind, key, req, after_lost_race)

    def _decide_once(self, kind: str, key: str, req: _Req, handle: Callable[[_Decision, _Req], _Out]) -> _Out:
        refused: DomainError | None = None
        with self._decision(str(req.statement_id or "")) as d:
            while refused is None:
                try:
                    return handle(d, req)
                except DomainError as err:
                    if self._record_refusal(d, kind, key, req, err):
                        refused = err
                    else:  # the refusal assumed nothing paid, and something is: decide again, reading it first
                        d.read_payments_first, d.assumed_unpaid = True, None
        raise refused

    def _record_refusal(self, d: _Decision, kind: str, key: str, req: StatementCharge | _Notification,
                        err: DomainError) -> bool:
        """Keep the refusal: True, or False (nothing kept) when the decision assumed nothing paid under
        its key or for its statement (`d.assumed_unpaid`) and a payment is."""
        amount_rial: object = req.amount_rial  # as the caller sent it, which may not be an int
        amount = amount_rial if isinstance(amount_rial, int) and not isinstance(amount_rial, bool) else None
        values = {"kind": kind, "request_key": str(key or ""), "contract_code": str(req.contract_code or ""),
                  "statement_id": str(req.statement_id or ""), "amount_rial": amount, "reason": err.reason.value,
                  "detail": err.detail, "attempted_at": self._clock.now()}
        with d.local() as conn:  # one INSERT: nothing is read back
            if d.assumed_unpaid is None:
                conn.execute(_INSERT_REFUSAL, values)
                return True
            paid_key, paid_statement_id = d.assumed_unpaid
            return conn.execute(_INSERT_REFUSAL_IF_UNPAID, {**values, "paid_key": paid_key,
                                                             "paid_statement_id": paid_statement_id}).rowcount == 1


@dataclass(frozen=True)
class _Notification:
    """A refused notification as the refusals table keeps it (no statement, no amount)."""

    contract_code: str
    statement_id: str = ""
    amount_rial: int | None = None


def _require_key(key: str, name: str) -> None:
    if is_blank(key):
        raise DomainError(Reason.INVALID_INPUT, f"{name} خالی است")


def _same_as_contract(given: str, on_contract: str, label: str) -> None:
    """Present on both (the gate checked it); the request must name the contract's own line."""
    if given != on_contract:
        raise DomainError(Reason.INVALID_INPUT,
                          f"{label} «{given}» با {label} قرارداد «{on_contract}» یکسان نیست")


def _charge_of(charge: StatementCharge | ExtPayment | Row[Any]) -> dict[str, Any]:
    """The charge's fields by name: contract code, statement id, budget line, expense factor, amount."""
    return {name: getattr(charge, name) for name in _CHARGE_FIELDS}


def _insert_once(d: _Decision, statement: Any, values: dict[str, Any]) -> None:
    """Insert the decision's new row. Raises _LostRace when a unique key refused it (the decision's
    transaction is then rolled back as the exception leaves it)."""
    try:
        with d.local() as conn:
            conn.execute(statement, values)
    except IntegrityError:
        raise _LostRace from None


def _insert_if_new(d: _Decision, values: dict[str, Any]) -> bool:
    """Insert the payment decided without reading the payments: True, or False (nothing inserted) when
    a row holds its key or its statement. Raises _LostRace on any other integrity error (as _insert_once)."""
    assert d.conn is not None
    try:
        return d.conn.execute(_INSERT_PAYMENT_IF_NEW[d.engine.dialect.name], values).rowcount == 1
    except IntegrityError:
        raise _LostRace from None


def _same_request_or_refuse(row: Row[Any], req: StatementCharge, key_label: str) -> Row[Any]:
    """The row stored under the request's key, when it records the same charge; else the key was reused."""
    if _charge_of(row) != _charge_of(req):
        raise DomainError(Reason.INVALID_INPUT, f"{key_label} با درخواست دیگری به کار رفته است")
    return row


def _payment(row: ExtPayment | Row[Any]) -> PaymentRecord:
    return PaymentRecord(payment_key=row.payment_key, **_charge_of(row),
                         statement_xml_sha256=row.statement_xml_sha256, paid_at=row.paid_at)


def _document(row: Row[Any]) -> ExpenseDocument:
    return ExpenseDocument(document_key=row.document_key, **_charge_of(row),
                           statement_xml_sha256=row.statement_xml_sha256, recorded_at=row.recorded_at)


def _receipt(row: ExtFinReceipt) -> ReceiptRecord:
    return ReceiptRecord(receipt_key=row.receipt_key, contract_code=row.contract_code, amount_rial=row.amount_rial,
                         received_at=row.received_at, recorded_at=row.recorded_at)
