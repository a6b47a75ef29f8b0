"""Issue 11 part 6: the rehearsal drives the same API as production, each simulated person a client
with their own SoftHSM token directory and PIN.

After a rehearsal's announcement and bids (pilot.runner.announce / submit), the audit log must show the
production path (price list imported by the contracts officer and approved with the formulas on the
deputy's token, the tender created from a tender file, its notice signed by the chair and published,
a login per action), every person must own exactly one token in a directory of their own, and the
published notice must verify with xmlsec1 against the pilot CA. A rehearsal that called the services
in-process would leave no `tender.created`, `pricelist.imported` or `auth.session` entries.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter

import pytest
from pilot_harness import world_with_bids

from pilot.scenario import tender_id_of
from signing.softhsm import SoftHsm
from signing.xmldsig import xmlsec1_verify_command

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    return world_with_bids(tmp_path_factory.mktemp("through-api"))


def _audit(world) -> list:
    with world.deps.uow() as uow:
        return [(e.action, e.actor, json.loads(e.payload_json) if e.payload_json else {}, e.entity_id)
                for e in uow.audit.entries()]


def test_r09_r02_the_rehearsal_acts_through_the_api_as_each_person(rehearsed):
    world, scenario = rehearsed
    entries = _audit(world)
    by_action = Counter(a for a, *_ in entries)
    officer, deputy = world.staff["contracts_officer"], world.staff["deputy"]
    chair = next(mm.national_id for mm in scenario.commission if mm.role == "chair" and mm.alternate_for is None)

    assert [(actor, p["role"]) for a, actor, p, _ in entries if a == "pricelist.imported"] == \
        [(officer, "contracts_officer")]
    assert [(actor, p["role"]) for a, actor, p, _ in entries if a == "pricelist.approved"] == [(deputy, "deputy")]
    approved = {eid for a, actor, _, eid in entries if a == "formula.approved" and actor == deputy}
    assert approved == {f"{f.id}@{f.version}" for f in world.policy.formulas}
    assert [actor for a, actor, _, eid in entries if a == "tender.created"] == [officer]
    assert [actor for a, actor, _, eid in entries if a == "tender.announced"] == [chair]
    # One login per station action: officer and deputy at set-up, officer and chair at announcement, and
    # each bidder's signatory once per submission (accepted or refused).
    submissions = sum(1 for b in scenario.bidders)
    assert by_action["auth.session"] >= 4 + submissions
    signatories = {world.bidder_signatory[b.id] for b in scenario.bidders}
    assert signatories <= {actor for a, actor, _, _ in entries if a == "auth.session"}


def test_r04_every_simulated_person_has_a_token_directory_and_pin_of_their_own(rehearsed):
    world, _ = rehearsed
    people = {*world.member_nid.values(), *world.staff.values(), *world.bidder_signatory.values()}
    signers = [world.signer(nid) for nid in people]
    assert len(signers) >= 15
    assert len({s.pin for s in signers}) == len(signers)  # no shared PIN
    for signer in signers:
        store = world.base_dir / "tokens" / signer.token_label
        assert SoftHsm.person(store).token_labels() == [signer.token_label]


def test_r02_the_published_notice_verifies_with_xmlsec1(rehearsed, tmp_path):
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")
    world, scenario = rehearsed
    with world.deps.uow() as uow:
        xml = uow.notices.latest(tender_id_of(scenario)).xml
    from cryptography.hazmat.primitives import serialization

    ca = tmp_path / "ca.pem"
    ca.write_bytes(world.ca.certificate.public_bytes(serialization.Encoding.PEM))
    notice = tmp_path / "notice.xml"
    notice.write_bytes(xml)
    for index in (0, 1):  # the chair's signature, then the engine's countersignature
        done = subprocess.run(xmlsec1_verify_command(str(notice), str(ca), index),
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
