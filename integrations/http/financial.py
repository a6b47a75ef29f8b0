"""integrations.financial.FinancialSystem over HTTP: the financial service (`eproc stub serve financial`).

The engine sends codes and the charge it asks for; the service fetches the contract, its registration
and the statement from the transactions system by code and refuses with the reason codes of the stub
and of domain.contract.payment_data (R13, R18, R20, R28, R29). A statement payment is of payment class
`after_expense` (domain.contract.payment_data.STATEMENT_PAYMENT_CLASS): the engine records the
statement's expense document first, then pays it (services.contract.statements.request_payment).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from integrations.financial import (
    ExpenseDocument,
    ExpenseDocumentRequest,
    PaymentRecord,
    PaymentRequest,
    RefusedAttempt,
    StatementCharge,
)
from integrations.http._client import JsonClient

_CHARGE = ("contract_code", "statement_id", "budget_line", "expense_factor", "amount_rial")


class HttpFinancialSystem:
    """The financial service at `base_url` (e.g. `http://127.0.0.1:8601`); `transport` for tests."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 30.0) -> None:
        self._http = JsonClient(base_url, "سامانهٔ مالی", transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    # --- FinancialSystem -------------------------------------------------------------------

    def record_expense_document(self, req: ExpenseDocumentRequest) -> ExpenseDocument:
        body = self._http.call("POST", "/v1/expense-documents", json={**_charge(req), "document_key": req.document_key})
        return ExpenseDocument(document_key=body["document_key"], **_charge(body),
                               statement_xml_sha256=body["statement_xml_sha256"],
                               recorded_at=datetime.fromisoformat(body["recorded_at"]))

    def pay(self, req: PaymentRequest) -> PaymentRecord:
        """Pay one statement once, with the request's payment class and budget-allocation code (R29;
        None: the contract's own).

        Raises: the service's refusal (DomainError with its reason); STORE_UNREACHABLE."""
        body = self._http.call("POST", "/v1/payments", json={
            **_charge(req), "payment_key": req.payment_key, "payment_class": req.payment_class,
            "budget_allocation_code": req.budget_allocation_code})
        return _payment(body)

    def payment_for_statement(self, statement_id: str) -> PaymentRecord | None:
        body = self._http.call("GET", f"/v1/payments/by-statement/{quote(statement_id, safe='/')}",
                               none_when_not_found=True)
        return _payment(body) if body is not None else None

    def refused_attempts(self, contract_code: str | None = None) -> list[RefusedAttempt]:
        params = {"contract_code": contract_code} if contract_code is not None else None
        return [RefusedAttempt(kind=r["kind"], request_key=r["request_key"], contract_code=r["contract_code"],
                               statement_id=r["statement_id"], amount_rial=r["amount_rial"], reason=r["reason"],
                               detail=r["detail"], attempted_at=datetime.fromisoformat(r["attempted_at"]))
                for r in self._http.call("GET", "/v1/refusals", params=params)]

    # --- beyond the Protocol (R28, R29) --------------------------------------------------

    def contract_notified(self, contract_code: str) -> dict[str, Any]:
        """Tell the financial system the contract was notified to the contractor: it fetches the
        contract's registration by code and checks it complete (R28).

        Returns {contract_code, result, registration, checked_at}. Raises: its refusal."""
        result: dict[str, Any] = self._http.call("POST", f"/v1/contracts/{quote(contract_code, safe='')}/notified")
        return result

    def pay_exempt(self, payment_key: str, exemption: str, amount_rial: int, payee: str, reference: str = "",
                   contract_code: str = "") -> dict[str, Any]:
        """A payment exempt from the budget-line rule (initial_petty_cash, deposit_refund, fee_refund;
        R29), once per key. Returns the payment as the service recorded it. Raises: its refusal."""
        result: dict[str, Any] = self._http.call("POST", "/v1/exempt-payments", json={
            "payment_key": payment_key, "exemption": exemption, "amount_rial": amount_rial, "payee": payee,
            "reference": reference, "contract_code": contract_code})
        return result


def _charge(charge: StatementCharge | dict[str, Any]) -> dict[str, Any]:
    if isinstance(charge, dict):
        return {name: charge[name] for name in _CHARGE}
    return {name: getattr(charge, name) for name in _CHARGE}


def _payment(body: dict[str, Any]) -> PaymentRecord:
    return PaymentRecord(payment_key=body["payment_key"], **_charge(body),
                         statement_xml_sha256=body["statement_xml_sha256"],
                         paid_at=datetime.fromisoformat(body["paid_at"]))
