"""Issue 13 parts 1 and 2 at separate stations (R12, R13, R17, R18, R29): `eproc serve` runs as a process;
the contracts officer, each stage's approver, the contractor, the supervisor, the employer's reviewer
and the treasurer are separate `eproc` processes, each with their own SOFTHSM2_CONF, token, PIN and
(empty) data directory; the engine signs nothing on anyone's behalf.

The tender before the contract is the rehearsal's (a district-12 world built in this test's process
on the server's data directory, run through the tender flow to the winner's contract signature, its
minutes signed by the members at their in-process stations): what issue 11 and 12's end-to-end test
proves for the tender is not repeated here. Each person of the contract then gets a station of their
own (tests/e2e/test_r01_...: `Station`), enrolled by the CA office on a new token. The registration
office adds the budget line and the expense factor with `eproc contract registry`.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_r01_tender_announced_and_bid_from_separate_stations import (
    EPROC,
    ROOT,
    Station,
    _base_env,
    _wait_for,
)

pytestmark = pytest.mark.slow
BUDGET_LINE, GENERAL_CODE, FACTOR = "1400-12-30201-034", "G-30201", "EF-12-ROAD"


def _variant_text() -> str:
    from pilot.scenario import BUNDLED
    from pilot.world import simulated_national_id

    text = (BUNDLED / "district-12-asphalt.toml").read_text(encoding="utf-8")
    text = text.replace('name = "district-12-asphalt"', 'name = "district-12-e2e-contract"')
    for old in set(re.findall(r'national_id = "(\d{10})"', text)) | set(re.findall(r'supervisor = "(\d{10})"', text)):
        text = text.replace(f'"{old}"', f'"{simulated_national_id("e2e13:" + old)}"')
    return text


def _tender_to_final_minutes(tmp_path: Path, server_dir: Path):
    """The rehearsal's district-12 tender on the server's database, up to the winner's signature."""
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from flows.tender import tender_flow
    from pilot import runner
    from pilot.contract_world import attach
    from pilot.scenario import load_scenario, tender_id_of
    from pilot.world import build_world
    from services.deps import use
    from signing.softhsm import SoftHsm

    SoftHsm.for_process(tmp_path / "rehearsal-softhsm")
    path = tmp_path / "district-12-e2e-contract.toml"
    path.write_text(_variant_text(), encoding="utf-8")
    scenario = load_scenario(path)
    world = build_world(scenario, server_dir, load_policy(BUNDLED_POLICY))
    attach(world)
    tender_id = tender_id_of(scenario)
    with use(world.deps):  # its flows run on the session's Prefect test server (prefect_server)
        runner.announce(world)
        for step in runner.timeline(scenario):
            if step.kind == "submit":
                runner.submit(world, step.who, step.at)
        result = tender_flow(tender_id)
    world.engine.dispose()
    return world, tender_id, result["contract_bidder"]


def test_r13_contract_stages_and_statements_from_separate_stations(tmp_path, prefect_server):
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is needed")
    server_dir = tmp_path / "server"
    world, tid, bidder = _tender_to_final_minutes(tmp_path, server_dir)
    unit = world.unit
    company = next(b.national_id for b in world.scenario.bidders if b.id == bidder)
    chair = next(m.national_id for m in world.scenario.commission if m.role == "chair")
    member = {m.role: m.national_id for m in world.scenario.commission}
    people = {"officer": (world.staff["contracts_officer"], "contracts_officer"), "legal": (member["legal"], "legal"),
              "finance": (member["finance"], "finance"), "treasurer": (world.staff["treasurer"], "treasurer"),
              "chair": (chair, "chair"), "supervisor": (world.staff["supervisor"], "supervisor"),
              "reviewer": (world.staff["employer_reviewer"], "employer_reviewer"),
              "contractor": (world.bidder_signatory[bidder], "company_signatory")}

    base = _base_env(tmp_path)
    office = {**base, "EPROC_DATA_DIR": str(server_dir)}
    st = {name: Station(tmp_path, name, nid, base) for name, (nid, _) in people.items()}
    for s in st.values():  # the CA office certifies the key generated on each person's own token
        out = s.run("ca", "enroll", "--person", s.national_id, "--token", s.label,
                    env={**s.env, "EPROC_DATA_DIR": str(server_dir)})
        assert out.returncode == 0, out.stdout + out.stderr
    for args in (("budget-line", "--unit", unit, "--code", BUDGET_LINE, "--general-code", GENERAL_CODE),
                 ("expense-factor", "--code", FACTOR, "--committee-ref", "COM-1405-3")):
        out = subprocess.run([EPROC, "contract", "registry", *args, "--json"], env=office, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr

    from eproc.stack.procs import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    engine = Station(tmp_path, "engine", "0000000000", base)  # a token directory with no person's token on it
    with open(log, "wb") as out:
        server = subprocess.Popen([EPROC, "serve", "--port", str(port)],
                                  env={**office, "SOFTHSM2_CONF": str(engine.conf)}, cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        _wait_for(url, server, log)

        def act(name: str, *args: str, unit_of: str = unit, ok: bool = True) -> dict:
            s = st[name]
            full = ("contract", *args, "--server", url, "--token", s.label, "--unit", unit_of,
                    "--role", people[name][1], "--json")
            if ok:
                return s.ok(*full)
            out = s.run(*full)
            assert out.returncode == 2 and "Traceback" not in out.stderr, out.stdout + out.stderr
            return json.loads(out.stdout)["error"]

        opened = act("officer", "open", "--tender", tid)
        assert opened["stage"] == "draft" and opened["code"] is None and opened["bidder"] == bidder
        refused = act("officer", "terms", "--tender", tid, "--budget-line", "NOT-IN-REGISTRY", ok=False)
        assert refused["reason"] == "INVALID_INPUT"
        terms = act("officer", "terms", "--tender", tid, "--budget-line", BUDGET_LINE, "--expense-factor", FACTOR,
                    "--budget-allocation", "TA-1405-77", "--supervisor", people["supervisor"][0])
        assert terms["budget_general_code"] == GENERAL_CODE and terms["expense_factor_approved"] is True
        assert act("officer", "approve", "--tender", tid, "--sha256", terms["contract_sha256"])["stage"] == "legal_review"
        assert act("officer", "approve", "--tender", tid, "--stage", "draft", ok=False)["reason"] == "WRONG_STAGE"
        assert act("treasurer", "approve", "--tender", tid, ok=False)["reason"] == "NOT_AUTHORISED"
        assert act("legal", "approve", "--tender", tid)["stage"] == "budget"
        assert act("finance", "approve", "--tender", tid)["stage"] == "treasurer"
        box = act("treasurer", "inbox")
        assert [c["tender_id"] for c in box["contracts"]] == [tid], box
        assert act("treasurer", "approve", "--tender", tid)["stage"] == "signing"
        assert act("chair", "approve", "--tender", tid)["stage"] == "signing"
        final = act("contractor", "approve", "--tender", tid, unit_of=company)
        assert final["stage"] == "final" and final["code"], final

        # Status statements from the contractor's station, signed in turn at the others'.
        s1 = act("contractor", "statement", "submit", "--tender", tid, "--ref", "s1", "--item", "010101=۳۰۰۰",
                 "--item", "020305=1500", unit_of=company)
        assert s1["sent"] is True and s1["next_role"] == "supervisor" and s1["contract_code"] == final["code"]
        assert act("treasurer", "statement", "sign", "--tender", tid, "--ref", "s1")["sent"] is False
        assert act("supervisor", "statement", "sign", "--tender", tid, "--ref", "s1")["next_role"] == "employer_reviewer"
        assert act("reviewer", "statement", "sign", "--tender", tid, "--ref", "s1")["next_role"] == "treasurer"
        assert [x["ref"] for x in act("treasurer", "inbox")["statements"]] == ["s1"]
        done = act("treasurer", "statement", "sign", "--tender", tid, "--ref", "s1")
        assert done["result"] == "approved" and done["payable_rial"] > 0 and len(done["signed"]) == 4
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert "Traceback" not in log.read_text()

    # Every signature the contract and the statement carry is a person's, made on their station token.
    import sqlite3

    db = sqlite3.connect(server_dir / "eproc.db")
    try:
        stage_signers = {nid for (nid,) in db.execute(
            "SELECT signer_national_id FROM signatures WHERE document_kind='contract_stage'")}
        statement_signers = {nid for (nid,) in db.execute(
            "SELECT signer_national_id FROM signatures WHERE document_kind='status_statement'")}
        serials = {serial for (serial,) in db.execute(
            "SELECT cert_serial FROM signatures WHERE document_kind IN ('contract_stage', 'status_statement')")}
        station_serials = {str(serial) for (serial,) in db.execute(
            f"SELECT serial FROM certificates WHERE token_label IN ({','.join('?' * len(st))})",
            [s.label for s in st.values()])}
    finally:
        db.close()
    assert stage_signers == {people[n][0] for n in ("officer", "legal", "finance", "treasurer", "chair", "contractor")}
    assert statement_signers == {people[n][0] for n in ("contractor", "supervisor", "reviewer", "treasurer")}
    assert serials <= station_serials
    assert world.staff["transactions_system"] not in stage_signers | statement_signers

    # What the stations signed is what the transparency site publishes (R21): every stage's signed
    # document, over the same JSON the HTTP publisher carries.
    import json as _json

    from config.settings import Settings
    from eproc.wiring import production
    from integrations.http.typed_json import decode, encode
    from integrations.stubs.transparency import TransparencyPublisherStub
    from services.contract.publication import publication_data
    from store.db import make_engine
    from store.stub_tables import create_stub_tables

    deps = production(Settings(data_dir=server_dir), database_url=f"sqlite:///{server_dir / 'eproc.db'}")
    data = decode(_json.loads(_json.dumps(encode(publication_data(deps, tid)))))
    assert len(data["documents"]) == 6  # officer, legal, finance, treasurer, chair, contractor
    site = make_engine(f"sqlite:///{tmp_path / 'site.db'}")
    create_stub_tables(site)
    published = TransparencyPublisherStub(site, deps.clock, publication_cutoff=deps.policy.publication.cutoff,
                                          publisher_name="سایت شفافیت").publish(data)
    assert published.status == "published" and published.contract_code == final["code"]
