"""Issue 15 item 1: a rehearsal's people get their tokens from a cached template (pilot.world
`world_template`), copied per world: every person keeps a token directory and a PIN of their own, the
template stays private to this user (0700/0600), and a template made for other people or other key
parameters is never reused (a stale one is made again)."""
from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone

import pytest
from signing_helpers import national_ids

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.reasons import DomainError, Reason
from pilot import world as pw
from pilot.scenario import BUNDLED, load_scenario
from signing.token import Token

START = datetime(2021, 5, 1, 6, 30, tzinfo=timezone.utc)


def _modes_private(path) -> bool:
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [".", *dirnames, *filenames]:
            mode = os.lstat(os.path.join(dirpath, name)).st_mode
            if stat.S_IMODE(mode) & 0o077:
                return False
    return True


@pytest.fixture
def two_people():
    ids = national_ids()
    return [(next(ids), "مریم احمدی"), (next(ids), "علی رضایی")]


def test_r04_template_is_private_reused_and_made_again_when_stale(hsm, tmp_path, two_people, monkeypatch):
    root = tmp_path / "cache"
    first = pw.world_template(two_people, START, root)
    assert first is not None and _modes_private(root)
    assert set(first.people) == {nid for nid, _ in two_people}
    made = (first.dir / "manifest.json").stat().st_mtime_ns
    again = pw.world_template(two_people, START, root)
    assert again is not None and again.dir == first.dir
    assert (again.dir / "manifest.json").stat().st_mtime_ns == made  # reused, not made again

    # Other people, names or key parameters: another template, never the old one.
    renamed = [(two_people[0][0], "سارا کریمی"), two_people[1]]
    other = pw.world_template(renamed, START, root)
    assert other is not None and other.dir != first.dir
    monkeypatch.setattr(pw, "CERT_VALID_DAYS", 365)
    shorter = pw.world_template(two_people, START, root)
    assert shorter is not None and shorter.dir not in (first.dir, other.dir)
    monkeypatch.undo()

    # A template whose manifest no longer matches what determines it, or whose modes were opened,
    # is made again (fresh keys), privately.
    manifest = json.loads((first.dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs"]["cert_valid_days"] = 1
    (first.dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = (first.token_dir(two_people[0][0]) / "token.object").read_bytes()
    remade = pw.world_template(two_people, START, root)
    assert remade is not None and remade.dir == first.dir
    assert json.loads((remade.dir / "manifest.json").read_text(encoding="utf-8"))["inputs"]["cert_valid_days"] == 730
    assert (remade.token_dir(two_people[0][0]) / "token.object").read_bytes() != before
    os.chmod(remade.ca_dir / "ca-key.pem", 0o644)
    fixed = pw.world_template(two_people, START, root)
    assert fixed is not None and _modes_private(fixed.dir)
    assert stat.S_IMODE(os.stat(fixed.ca_dir / "ca-key.pem").st_mode) == 0o600


def test_r04_template_off_switch(monkeypatch, tmp_path):
    monkeypatch.setenv(pw.CACHE_ENV, "off")
    assert pw.template_cache_dir() is None
    monkeypatch.setenv(pw.CACHE_ENV, str(tmp_path / "t"))
    assert pw.template_cache_dir() == tmp_path / "t"
    monkeypatch.delenv(pw.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pw.template_cache_dir() == tmp_path / "xdg" / "eproc" / "pilot-templates"


def test_r04_worlds_from_the_template_give_every_person_their_own_directory_and_pin(hsm, tmp_path, monkeypatch):
    monkeypatch.setenv(pw.CACHE_ENV, str(tmp_path / "cache"))
    scenario = load_scenario(BUNDLED / "district-12-asphalt.toml")
    policy = load_policy(BUNDLED_POLICY)
    worlds = [pw.build_world(scenario, tmp_path / name, policy) for name in ("w1", "w2")]
    template = worlds[0].template
    assert template is not None and worlds[1].template == template
    people = pw.people_of(scenario)
    assert set(template.people) == {nid for nid, _ in people}

    seen_dirs, seen_pins = set(), set()
    for world in worlds:
        for nid, _ in people:
            label = pw.token_label(world, nid)
            signer = world.signer(nid)
            person_dir = world.base_dir / "tokens" / label
            # A directory of their own holding their one token, private, labelled for this world.
            assert signer.token_label == label and signer.pin == pw.simulated_pin(label)
            assert [d.name for d in (person_dir / "tokens").iterdir()] == [template.people[nid]["token"]]
            assert _modes_private(person_dir / "tokens")
            seen_dirs.add(person_dir.resolve())
            seen_pins.add(signer.pin)
            # Their own PIN opens it and signs with the certified key; the template's PIN no longer does.
            with Token(label, pin=signer.pin) as token:
                signature = token.sign(pw.KEY, b"probe")
            signer.cert.public_key().verify(signature, b"probe", *_pkcs1_sha256())
            with pytest.raises(DomainError) as refused:
                with Token(label, pin=pw.simulated_pin(template.people[nid]["label"])):
                    pass
            assert refused.value.reason is Reason.TOKEN_PIN_INVALID
            # The world's own registry knows the certificate, with its key transport.
            with world.deps.uow() as uow:
                row = uow.certificates.get(signer.cert.serial_number)
                assert row is not None and row.token_label == label and row.key_transport
    assert len(seen_dirs) == len(seen_pins) == 2 * len(people)
    # The worlds' CA is a copy (key file 0600), the template's own files are untouched.
    for world in worlds:
        assert stat.S_IMODE(os.stat(world.ca.ca_dir / "ca-key.pem").st_mode) == 0o600
        assert world.ca.ca_dir != template.ca_dir
    assert _modes_private(template.dir)


def _pkcs1_sha256():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()
