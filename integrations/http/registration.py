"""The transactions system read over HTTP by the outside systems' services (R14, R18, R28).

`HttpTransactionsReader` is integrations.transactions_http.HttpTransactionsSystem (contracts by code,
statements by id, OCDS releases) plus the contract's registration by code
(`GET /v1/contracts/{code}/registration`, api.routers.fetch), what the financial system checks when
the contract is notified to the contractor and at every payment.
"""
from __future__ import annotations

from urllib.parse import quote

from domain.contract.payment_data import RegistrationView
from integrations.transactions_http import API_PREFIX, HttpTransactionsSystem


class HttpTransactionsReader(HttpTransactionsSystem):
    def registration(self, code: str) -> RegistrationView | None:
        """The registration of the contract under exactly this code, or None (a blank code included).

        Raises: STORE_UNREACHABLE when the transactions system cannot be read."""
        if not str(code or "").strip():
            return None
        body = self._get(f"{API_PREFIX}/contracts/{quote(str(code).strip(), safe='')}/registration")
        return RegistrationView.from_dict(body) if body is not None else None
