"""Issue 13 part 4 (R28, R29): the financial system as its own process with its own database, fetching
contracts, their registration and statements by code from a real `eproc serve` process.

`eproc serve` runs over a registry made as in tests/e2e/test_r01_... (`_registry`); the contracts and the
settled statement are rows in its store, as the stations' path (tests/e2e/test_r13_contract_stages_at_
stations.py) leaves them, written directly here so that this test stays short: a final contract with
its complete registration and an approved statement signed by the contractor and the treasurer, a
contract still at `treasurer` stage (no code), one carrying a legacy code at `treasurer` stage, one
without budget-allocation code, one whose expense factor the committee has not approved.
`eproc stub serve financial` runs as another process with its own SQLite file; the engine's side is
integrations.http.financial.HttpFinancialSystem, the client eproc.wiring uses with EPROC_INTEGRATIONS=http.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domain.reasons import DomainError
from tests.e2e.test_r01_tender_announced_and_bid_from_separate_stations import (
    COMPANIES,
    EPROC,
    ROOT,
    UNIT,
    Station,
    _base_env,
    _registry,
    _wait_for,
)

pytestmark = pytest.mark.slow
LINE, GENERAL, FACTOR, NEW_FACTOR = "1405-12-30201", "G-30201", "EF-ROAD", "EF-NEW"
PAYABLE = 1_250_000_000


def _seed(server_dir: Path, company: str, contractor_nid: str, treasurer_nid: str) -> None:
    """The store as the stations' path leaves it (see the module's docstring)."""
    import json

    from services.signers import COMPANY_SIGNATORY
    from store import models as m
    from store.contract_registries import registries
    from store.db import make_engine, session_factory
    from store.uow import UnitOfWork

    engine = make_engine(f"sqlite:///{server_dir / 'eproc.db'}")
    now = datetime.now(timezone.utc)
    with UnitOfWork(session_factory(engine)) as uow:
        kept = registries(uow)
        kept.add_budget_line(UNIT, LINE, GENERAL, "آسفالت معابر", now)
        kept.add_expense_factor(FACTOR, "نگهداری معابر", now).approved_at = now
        kept.add_expense_factor(NEW_FACTOR, "عامل تازه", now)  # waits for the committee

        def contract(tracking: str, code: str | None, stage: str, allocation: str, factor: str = FACTOR) -> m.Contract:
            fields = {"subject": f"قرارداد {tracking}", "budget_allocation_code": allocation}
            return uow.contracts.add(m.Contract(
                tracking_number=tracking, code=code, unit_id=UNIT, kind="expense", stage=stage, amount_rial=5 * PAYABLE,
                contractor_id=company, budget_line=LINE, expense_factor=factor,
                concluded_at=now if stage == "final" else None, data_json=json.dumps({"fields": fields})))

        ok = contract("TR-1", "C-OK", "final", "TA-1405-77")
        contract("TR-2", None, "treasurer", "TA-1405-78")
        contract("TR-3", "C-LEGACY", "treasurer", "TA-1405-79")
        contract("TR-4", "C-NOALLOC", "final", "")
        contract("TR-5", "C-NEWFACTOR", "final", "TA-1405-80", factor=NEW_FACTOR)
        uow.session.flush()
        uow.session.add(m.StatusStatement(contract_id=ok.id, ref="s1", seq=1, at=now - timedelta(hours=1),
                                          cumulative_rial=PAYABLE, gross_rial=PAYABLE, payable_rial=PAYABLE,
                                          result="approved", xml=b"<StatusStatement ref='s1'/>"))
        for nid, role in ((contractor_nid, COMPANY_SIGNATORY), (treasurer_nid, "treasurer")):
            uow.session.add(m.SignatureRow(document_kind="status_statement", document_id="TR-1/s1",
                                           signer_national_id=nid, role=role, cert_serial="1", signed_at=now))
        uow.commit()
    engine.dispose()


def _refused(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.reason.value


def test_r28_financial_service_fetches_by_code_and_pays_once(tmp_path):
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is needed")
    from eproc.stack.procs import free_port
    from integrations.financial import PaymentRequest
    from integrations.http.financial import HttpFinancialSystem
    from pilot.world import simulated_national_id

    people = {name: (simulated_national_id(f"e2e28:{name}"), name, role) for name, role in (
        ("engine", "transactions_system"), ("treasurer", "treasurer"), ("b1", "company_signatory"))}
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    _registry(server_dir, people)
    _seed(server_dir, COMPANIES["b1"][0], people["b1"][0], people["treasurer"][0])

    base = _base_env(tmp_path)
    engine_station = Station(tmp_path, "engine", people["engine"][0], base)  # a token directory, no key used
    port, fin_port = free_port(), free_port()
    url, fin_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{fin_port}"
    serve_log, fin_log = tmp_path / "serve.log", tmp_path / "financial.log"
    fin_db = tmp_path / "financial" / "financial.db"
    with open(serve_log, "wb") as out:
        server = subprocess.Popen([EPROC, "serve", "--port", str(port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  env={**base, "EPROC_DATA_DIR": str(server_dir), "SOFTHSM2_CONF": str(engine_station.conf)})
    # The financial system: its own process, its own database, no data directory or token of the engine's.
    (tmp_path / "financial").mkdir()
    with open(fin_log, "wb") as out:
        financial = subprocess.Popen([EPROC, "stub", "serve", "financial", "--port", str(fin_port), "--db", str(fin_db),
                                      "--transactions-url", url], cwd=tmp_path / "financial", stdout=out,
                                     stderr=subprocess.STDOUT,
                                     env={**base, "EPROC_DATA_DIR": str(tmp_path / "financial" / "data")})
    fin = HttpFinancialSystem(fin_url)
    try:
        _wait_for(url, server, serve_log)
        _wait_for(fin_url, financial, fin_log)

        # R28 at notification: complete registration, or refused with its code.
        notified = fin.contract_notified("C-OK")
        assert notified["result"] == "complete" and notified["registration"]["budget_general_code"] == GENERAL
        assert _refused(lambda: fin.contract_notified("C-NOALLOC")) == "FIELD_MISSING"
        assert _refused(lambda: fin.contract_notified("C-NEWFACTOR")) == "EXPENSE_FACTOR_MISSING"
        assert _refused(lambda: fin.contract_notified("C-LEGACY")) == "CONTRACT_NOT_FINAL"

        def request(code: str, statement: str = "TR-1/s1", key: str = "k-1", factor: str = FACTOR) -> PaymentRequest:
            return PaymentRequest(payment_key=key, contract_code=code, statement_id=statement, budget_line=LINE,
                                  expense_factor=factor, amount_rial=PAYABLE)

        # R28 at every payment: refused before anything is paid.
        assert _refused(lambda: fin.pay(request("", key="k-nocode"))) == "NO_CONTRACT_CODE"
        assert _refused(lambda: fin.pay(request("TR-2", key="k-treasurer"))) == "NO_CONTRACT_CODE"  # no code yet
        assert _refused(lambda: fin.pay(request("C-LEGACY", key="k-legacy"))) == "CONTRACT_NOT_FINAL"
        assert _refused(lambda: fin.pay(request("C-NOALLOC", key="k-noalloc"))) == "FIELD_MISSING"
        assert _refused(lambda: fin.pay(request("C-NEWFACTOR", key="k-factor", factor=NEW_FACTOR))) \
            == "EXPENSE_FACTOR_MISSING"
        assert fin.payment_for_statement("TR-1/s1") is None

        # Exactly once: a retry under the same key is the same payment; another key is DUPLICATE_PAYMENT.
        paid = fin.pay(request("C-OK"))
        assert paid.amount_rial == PAYABLE and paid.statement_id == "TR-1/s1"
        assert fin.pay(request("C-OK")) == paid
        assert _refused(lambda: fin.pay(request("C-OK", key="k-2"))) == "DUPLICATE_PAYMENT"
        assert fin.payment_for_statement("TR-1/s1") == paid

        # R29 exemptions: a deposit refund passes for a contract without budget-allocation code, once.
        refund = fin.pay_exempt("x-1", "deposit_refund", 40_000_000, payee=COMPANIES["b1"][0],
                                reference="سپردهٔ حسن انجام کار", contract_code="C-NOALLOC")
        assert refund["exemption"] == "deposit_refund"
        assert fin.pay_exempt("x-1", "deposit_refund", 40_000_000, payee=COMPANIES["b1"][0],
                              reference="سپردهٔ حسن انجام کار", contract_code="C-NOALLOC") == refund
        assert _refused(lambda: fin.pay_exempt("x-2", "gift", 1, payee="x")) == "INVALID_INPUT"

        reasons = [r.reason for r in fin.refused_attempts()]
        assert {"NO_CONTRACT_CODE", "CONTRACT_NOT_FINAL", "FIELD_MISSING", "EXPENSE_FACTOR_MISSING",
                "DUPLICATE_PAYMENT"} <= set(reasons)
    finally:
        fin.close()
        for proc in (financial, server):
            proc.terminate()
            proc.wait(timeout=60)
    assert "Traceback" not in serve_log.read_text() + fin_log.read_text()
    # It fetched by code from the transactions system: the contract, its registration, the statement.
    served = serve_log.read_text()
    for path in ("/v1/contracts/C-OK ", "/v1/contracts/C-OK/registration ", "/v1/statements/TR-1/s1 "):
        assert f"GET {path}" in served, served[-3000:]
    # One payment, in the financial system's own database only.
    fin_rows = sqlite3.connect(fin_db).execute("SELECT statement_id, amount_rial FROM ext_fin_payments").fetchall()
    assert fin_rows == [("TR-1/s1", PAYABLE)]
    engine_db = sqlite3.connect(server_dir / "eproc.db")
    tables = {t for (t,) in engine_db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "svc_fin_exempt_payments" not in tables
    if "ext_fin_payments" in tables:
        assert engine_db.execute("SELECT count(*) FROM ext_fin_payments").fetchone() == (0,)
