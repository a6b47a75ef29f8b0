"""Issue 12 part 3 (R06, R10, R11): the Article 13 minutes and the Article 18 notification are signed at
the members' own stations, each on their own token, and the engine only receives the signatures,
verified at receipt; the minutes are final when every member taking part has signed.

One district-12 world per module: announced, every bid received, the opening session held with the
legal member (m4) absent (so a commission member who is not taking part exists), the minutes
generated and confirmed. The first test signs the generated minutes (version 1: the Article 18
notification is built from a first version) and makes them final; every later test starts from a new,
unsigned version of the minutes (`fresh`, a harness-only step: the engine itself never re-versions
final minutes), so each runs on an untouched document. The stations are the world's people
(pilot.stations: the API in-process, each person their own token directory and PIN); raw requests go
through a TestClient of the same application. The CLI test runs `eproc minutes` in a separate process
with the member's own SOFTHSM2_CONF against the application served on a local port.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

pytestmark = pytest.mark.xdist_group("minutes-at-stations")
ROOT = Path(__file__).resolve().parents[2]
XML = {"content-type": "application/xml"}
PARTICIPANTS = ["m1", "m2", "m3", "m5"]  # m4 (legal) is absent from the session
ROLE = {"m1": "chair", "m2": "finance", "m3": "technical", "m4": "legal", "m5": "security"}


@dataclass
class Sitting:
    world: object       # pilot.world.World
    tender_id: str
    unit: str
    client: object      # fastapi TestClient over the stations' application

    def nid(self, member: str) -> str:
        return self.world.member_nid[member]

    def signer(self, member: str):
        return self.world.signer(self.nid(member))

    def station(self, member: str):
        return self.world.stations.person(self.nid(member), ROLE[member], self.unit)

    def login(self, member: str, role: str | None = None) -> dict[str, str]:
        from datetime import datetime

        from services.auth import Challenge, sign_session_request

        signer = self.signer(member) if member in ROLE else self.world.signer(member)
        r = self.client.post("/v1/auth/challenge", json={"national_id": signer.national_id})
        assert r.status_code == 200, r.text
        b = r.json()
        ch = Challenge(b["challenge_id"], b["nonce"], signer.national_id, datetime.fromisoformat(b["expires_at"]))
        answer = sign_session_request(signer, self.world.clock, ch, role or ROLE[member], self.unit)
        r = self.client.post("/v1/auth/session", content=answer, headers=XML)
        assert r.status_code == 200, r.text
        return {"authorization": f"Bearer {r.json()['token']}"}

    def path(self, kind: str = "article13") -> str:
        return f"/v1/tenders/{self.tender_id}/minutes/{kind}"

    def stored(self, kind: str = "article13"):
        with self.world.deps.uow() as uow:
            return uow.minutes.latest(self.tender_id, kind)

    def signed_by(self, member: str, xml: bytes, clock=None) -> bytes:
        from domain.xmlsafe import parse_untrusted

        doc = self.signer(member).sign(parse_untrusted(xml), clock or self.world.clock, ROLE[member], self.unit)
        return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def refused(r, status: int, reason: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["reason"] == reason, body
    return body


@pytest.fixture(scope="module")
def sitting(tmp_path_factory):
    import shutil

    from fastapi.testclient import TestClient

    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from pilot import runner
    from pilot.scenario import BUNDLED, load_scenario, tender_id_of
    from pilot.world import build_world
    from services import tender as svc
    from services.deps import use
    from services.ports import Confirmation
    from signing.softhsm import SoftHsm

    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed")
    SoftHsm.for_process(tmp_path_factory.mktemp("softhsm"))  # before any token is opened (see tests/api/conftest.py)
    scenario = load_scenario(BUNDLED / "district-12-asphalt.toml")
    world = build_world(scenario, tmp_path_factory.mktemp("minutes-world"), load_policy(BUNDLED_POLICY))
    tender_id = tender_id_of(scenario)
    runner.announce(world)
    for step in runner.timeline(scenario):
        if step.kind == "submit":
            runner.submit(world, step.who, step.at)
    world.clock.set(scenario.tender.opening_at)
    # The sitting opens; the members holding parts release them at their own stations (issue 12).
    svc.open_sitting(world.deps, tender_id, "opening")
    with use(world.deps):
        world.deps.human().release_parts(tender_id, "opening", {m.id: m.name for m in scenario.commission},
                                         world.clock.now())
    outcome = svc.opening_session(world.deps, tender_id, PARTICIPANTS)
    assert outcome.participants == PARTICIPANTS
    svc.draft_minutes(world.deps, tender_id, outcome)
    svc.confirm_minutes(world.deps, tender_id, Confirmation(True, "test"))
    with TestClient(world.stations.app, raise_server_exceptions=False) as client:
        yield Sitting(world, tender_id, world.unit, client)


@pytest.fixture
def fresh(sitting):
    """A new, unsigned version of the minutes (the same content, the next version number)."""
    from domain.documents.xmlcommon import body_of
    from domain.xmlsafe import parse_untrusted
    from services.tender.minutes import save_minutes
    from signing.xmldsig import is_envelope, signed_document_root

    s = sitting
    row = s.stored()
    doc = parse_untrusted(row.xml)
    root = signed_document_root(doc) if is_envelope(doc) else doc
    body_of(root).set("version", str(row.version + 1))
    save_minutes(s.world.deps, s.tender_id, "article13", row.version + 1, root, final=False,
                 action="article13.generated")
    return s


# --- the path that works ------------------------------------------------------------------------------

def test_r10_members_sign_at_their_stations_and_the_minutes_become_final_then_the_chair_signs_article18(sitting):
    from services import tender as svc
    from stations.minutes import show_minutes, sign_minutes

    s = sitting
    if s.stored().version != 1:
        pytest.skip("runs first in this module, on the generated minutes (version 1)")
    with s.station("m1") as chair:
        shown = show_minutes(chair, s.tender_id, "article13")
        assert shown.sha256 == hashlib.sha256(s.stored().xml).hexdigest() and not shown.final
        assert [m.id for m in shown.required] == PARTICIPANTS and shown.signed == ()
        assert "برندهٔ اول b3" in shown.summary_fa and "۱۲٬۹۶۷٬۵۰۰٬۰۰۰ ریال" in shown.summary_fa
        assert shown.summary_fa.count("هنوز امضا نکرده است") == 4
        assert shown.facts["winner"] == "b3" and shown.facts["prices_rial"]["b3"] == 12_967_500_000
        answer = sign_minutes(chair, s.tender_id, "article13", expected_sha256=shown.sha256)
    assert answer["sent"] and not answer["final"] and answer["signed"] == ["m1"]
    assert not svc.all_signed(s.world.deps, s.tender_id, "article13")
    with pytest.raises(Exception) as err:
        svc.signed_minutes(s.world.deps, s.tender_id)
    assert err.value.reason.value == "QUORUM_NOT_MET" and "m4" not in err.value.detail

    # m2 signs its copy while m3 has already fetched an older one: m3's upload is stale
    with s.station("m3") as technical:
        before = show_minutes(technical, s.tender_id, "article13")
        with s.station("m2") as finance:
            assert sign_minutes(finance, s.tender_id, "article13", expected_sha256=before.body_sha256)["sent"]
        stale = s.client.post(s.path() + "/signatures", headers={**s.login("m3"), **XML},
                              content=s.signed_by("m3", before.xml))
        assert "دوباره" in refused(stale, 409, "WRONG_STAGE")["detail"]
        # the station retries once by fetching again: m5 lands between m3's fetch and its upload
        real_sign = technical.sign

        def sign_after_m5(doc):
            with s.station("m5") as security:
                sign_minutes(security, s.tender_id, "article13")
            return real_sign(doc)

        technical.sign = sign_after_m5
        answer = sign_minutes(technical, s.tender_id, "article13", expected_sha256=before.body_sha256)
    assert answer["sent"] and answer["final"] and answer["signed"] == PARTICIPANTS

    minutes = svc.signed_minutes(s.world.deps, s.tender_id)
    assert minutes.final and minutes.signers == ["m1", "m2", "m5", "m3"] and minutes.award.winner == "b3"
    with s.world.deps.uow() as uow:
        assert uow.tenders.get(s.tender_id).status == "minutes_final"
        assert {r.signer_national_id for r in uow.minutes.signatures("article13", s.tender_id)} == \
               {s.nid(m) for m in PARTICIPANTS}
        assert uow.audit.last("article13.signed", s.tender_id).actor == s.nid("m3")
    from signing.outside import verify_all_with_xmlsec1, xmlsec1_available

    if xmlsec1_available():
        ca_pem = s.world.ca.ca_certificate_pem()
        assert [ok for _, ok, _ in verify_all_with_xmlsec1(minutes.xml, ca_pem)] == [True] * 4
    # nothing changes after: another signature is MINUTES_FINAL, a station has nothing to sign
    late = s.client.post(s.path() + "/signatures", headers={**s.login("m1"), **XML},
                         content=s.signed_by("m1", minutes.xml))
    refused(late, 409, "MINUTES_FINAL")
    with s.station("m1") as chair:
        assert sign_minutes(chair, s.tender_id, "article13")["sent"] is False

    # Article 18: generated unsigned, signed by the chair at their station only
    draft = svc.draft_notification(s.world.deps, s.tender_id, "b3", 1)
    assert (draft.kind, draft.signers) == ("article18", ["m1"])
    with pytest.raises(Exception) as err:
        svc.notify_winner(s.world.deps, s.tender_id, "b3", 1)
    assert err.value.reason.value == "QUORUM_NOT_MET"
    with s.station("m2") as finance:
        with pytest.raises(Exception) as err:
            sign_minutes(finance, s.tender_id, "article18")
        assert err.value.reason.value == "NOT_AUTHORISED"
    with s.station("m1") as chair:
        shown = show_minutes(chair, s.tender_id, "article18")
        assert "ابلاغ ماده ۱۸" in shown.summary_fa and shown.facts["bidder"] == "b3"
        assert shown.facts["amount_rial"] == 12_967_500_000
        assert sign_minutes(chair, s.tender_id, "article18", shown.sha256)["final"]
    xml = svc.notify_winner(s.world.deps, s.tender_id, "b3", 1)
    assert xml == s.stored("article18").xml and s.stored("article18").final
    assert s.world.deps.notifier is not None


# --- refusals: each on an untouched version ------------------------------------------------------------

def test_r10_a_tampered_body_an_altered_signature_and_two_new_signatures_are_refused(fresh):
    s = fresh
    stored = s.stored()
    m2 = s.login("m2")
    good = s.signed_by("m2", stored.xml)
    tampered = good.replace(b'winner="b3"', b'winner="b4"')
    assert tampered != good
    refused(s.client.post(s.path() + "/signatures", headers={**m2, **XML}, content=tampered), 422, "INVALID_INPUT")
    value = good.split(b"<ds:SignatureValue>")[1][:8]
    forged = good.replace(value, bytes(reversed(value)))
    refused(s.client.post(s.path() + "/signatures", headers={**m2, **XML}, content=forged), 400, "SIGNATURE_INVALID")
    both = s.signed_by("m3", good)  # m2's and m3's new signatures at once
    refused(s.client.post(s.path() + "/signatures", headers={**m2, **XML}, content=both), 422, "INVALID_INPUT")
    refused(s.client.post(s.path() + "/signatures", headers={**m2, **XML}, content=b"<a/>"), 400, "MALFORMED_XML")
    assert s.stored().xml == stored.xml  # nothing was stored


def test_r10_the_new_signature_must_be_the_session_persons_a_required_signer_and_only_once(fresh):
    s = fresh
    stored = s.stored()
    by_m3 = s.signed_by("m3", stored.xml)
    # m2's session sends m3's signature
    refused(s.client.post(s.path() + "/signatures", headers={**s.login("m2"), **XML}, content=by_m3),
            401, "NOT_AUTHENTICATED")
    # m4 is a commission member but took no part in the session
    by_m4 = s.signed_by("m4", stored.xml)
    body = refused(s.client.post(s.path() + "/signatures", headers={**s.login("m4"), **XML}, content=by_m4),
                   403, "NOT_AUTHORISED")
    assert "امضاکنندگان لازم" in body["detail"]
    # a signature made ten minutes before it arrives
    from domain.clock import SimulatedClock

    early = SimulatedClock(s.world.clock.now() - timedelta(minutes=10))
    refused(s.client.post(s.path() + "/signatures", headers={**s.login("m3"), **XML},
                          content=s.signed_by("m3", stored.xml, early)), 400, "SIGNING_TIME_SKEW")
    # m3 signs; the same person again is refused, and the stored document keeps one signature of theirs
    r = s.client.post(s.path() + "/signatures", headers={**s.login("m3"), **XML}, content=by_m3)
    assert r.status_code == 201 and r.json()["signed"] == ["m3"], r.text
    again = s.signed_by("m3", s.stored().xml)
    body = refused(s.client.post(s.path() + "/signatures", headers={**s.login("m3"), **XML}, content=again),
                   409, "WRONG_STAGE")
    assert "پیش‌تر" in body["detail"]


def test_r10_only_the_tenders_commission_reads_the_minutes_and_kinds_are_checked(fresh):
    s = fresh
    r = s.client.get(s.path())
    refused(r, 401, "NOT_AUTHENTICATED")
    deputy = s.login(s.world.staff["deputy"], "deputy")
    refused(s.client.get(s.path(), headers=deputy), 403, "NOT_AUTHORISED")
    m4 = s.login("m4")
    r = s.client.get(s.path(), headers=m4)  # a member not taking part may read, not sign
    assert r.status_code == 200 and r.headers["x-eproc-sha256"] == hashlib.sha256(r.content).hexdigest()
    assert r.headers["x-eproc-final"] == "false" and r.content == s.stored().xml
    summary = s.client.get(s.path() + "/summary", headers=m4).json()
    assert summary["sha256"] == r.headers["x-eproc-sha256"] and "صورتجلسه" in summary["summary_fa"]
    refused(s.client.get(s.path("article99"), headers=m4), 422, "INVALID_INPUT")
    refused(s.client.get("/v1/tenders/NO-SUCH/minutes/article13", headers=m4), 404, "NOT_FOUND")
    refused(s.client.get(s.path("article18"), headers=m4), 409, "WRONG_STAGE")


def test_r10_an_upload_over_an_earlier_version_is_stale(fresh):
    s = fresh
    earlier = s.signed_by("m2", s.stored().xml)
    from domain.documents.xmlcommon import body_of
    from domain.xmlsafe import parse_untrusted
    from services.tender.minutes import save_minutes

    row = s.stored()
    root = parse_untrusted(row.xml)
    body_of(root).set("version", str(row.version + 1))
    save_minutes(s.world.deps, s.tender_id, "article13", row.version + 1, root, final=False,
                 action="article13.generated")
    refused(s.client.post(s.path() + "/signatures", headers={**s.login("m2"), **XML}, content=earlier),
            409, "WRONG_STAGE")


def test_r10_form_decisions_wait_for_the_stations_and_give_up_at_the_timeout(fresh):
    from flows.decisions import FormDecisions
    from services.deps import use

    s = fresh
    with use(s.world.deps):
        start = time.monotonic()
        FormDecisions(timeout=1, poll_seconds=0.2).minutes_signed(s.tender_id, "article13", PARTICIPANTS)
        assert 0.9 <= time.monotonic() - start < 5  # nobody signed: it waited the whole timeout, then returned


# --- the CLI at a member's own station, in its own process -------------------------------------------------

LAUNCH = """
import sys
from datetime import datetime
import domain.clock
at = datetime.fromisoformat(sys.argv[1])
domain.clock.SystemClock.now = lambda self: at  # the station's clock is the rehearsal's simulated time
sys.argv = ["eproc", *sys.argv[2:]]
from eproc.cli import main
main()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(sitting):
    """The stations' application served on a local port (uvicorn in a thread of this process)."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(sitting.world.stations.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_r10_eproc_minutes_show_and_sign_in_a_separate_process_with_the_members_own_token(fresh, served):
    from pilot.world import token_label

    s = fresh
    nid = s.nid("m2")
    label = token_label(s.world, nid)
    conf = s.world.base_dir / "tokens" / label / "softhsm2.conf"
    assert conf.exists()  # the member's own token directory, as on their own machine
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EPROC_", "SOFTHSM2_CONF"))}
    env.update({"SOFTHSM2_CONF": str(conf), "EPROC_TOKEN_PIN": s.signer("m2").pin, "PYTHONPATH": str(ROOT),
                "EPROC_DATA_DIR": str(s.world.base_dir / "station-m2")})
    at = s.world.clock.now().isoformat()
    common = ["--tender", s.tender_id, "--kind", "article13", "--server", served, "--token", label,
              "--unit", s.unit, "--role", "finance"]

    def eproc(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", LAUNCH, at, "minutes", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=180)

    shown = eproc("show", *common)
    assert shown.returncode == 0, shown.stderr
    sha = hashlib.sha256(s.stored().xml).hexdigest()
    assert sha in shown.stdout and "برندهٔ اول b3" in shown.stdout and "Traceback" not in shown.stderr
    wrong = eproc("sign", *common, "--sha256", "0" * 64, "--json")
    assert wrong.returncode == 2 and json.loads(wrong.stdout)["error"]["reason"] == "INVALID_INPUT"
    assert hashlib.sha256(s.stored().xml).hexdigest() == sha  # nothing was sent
    signed = eproc("sign", *common, "--sha256", sha, "--json")
    assert signed.returncode == 0, signed.stderr
    answer = json.loads(signed.stdout)
    assert answer["sent"] is True and answer["signed"] == ["m2"] and answer["required"][1]["signed"] is True
    from domain.xmlsafe import parse_untrusted
    from signing.xmldsig import signatures

    assert [sig.national_id for sig in signatures(parse_untrusted(s.stored().xml))] == [nid]
