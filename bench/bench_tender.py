"""Tender benchmark, each figure against a baseline measured in the same run.

1. The opening session for N bids whose envelope B carries an S MB document (unlock the opening key
   with the members' SoftHSM tokens, verify each bidder's signature, decrypt A/B/C, evaluate, generate
   and sign the Article 13 minutes) vs the raw AES-GCM decryption of the same bytes plus one RSA
   signature verification per bid (cryptography, no engine code).
2. A whole default pilot's wall time split into the work inside the services (domain rules, crypto,
   tokens, database) and everything else (Prefect orchestration, world setup).

    .venv/bin/python bench/bench_tender.py [--bids 200] [--size-mb 1] [--skip-pilot]
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import tempfile
import time
import tomllib
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")


def _company_id(n: int) -> str:
    prefix = f"2{n + 1_234_567:09d}"  # digits 4-9 of a company ID are never all zero
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    d = int(prefix[9]) + 2
    total = sum((d + int(prefix[i])) * weights[i] for i in range(10)) % 11
    return prefix + str(0 if total == 10 else total)


def bench_opening(n: int, size_mb: float, base: Path) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from lxml import etree

    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from pilot.runner import members_of, tender_spec
    from pilot.scenario import DEFAULT_SCENARIO, Scenario
    from pilot.world import SHARED_PIN as PIN, SO_PIN, build_world, formulas_of, simulated_national_id, token_label
    from sealing import content as sc
    from sealing.envelopes import manifest_xml, seal_bid
    from services import tender as svc
    from services.signers import COMPANY_SIGNATORY, Signer
    from signing.softhsm import SoftHsm
    from signing.token import Token

    raw = tomllib.loads(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    raw["bidders"], raw["events"] = [], []
    for key in ("contract", "status_statements", "payments"):
        raw.pop(key, None)
    raw["scenario"]["name"] = "bench-opening"
    scenario = Scenario.model_validate(raw)
    world = build_world(scenario, base / "world", load_policy(BUNDLED_POLICY), shared_tokens=True)
    ceo = simulated_national_id("bench:ceo")
    hsm = SoftHsm.for_process(base / "world" / "tokens")
    label = token_label(world, ceo)
    hsm.init_token(label, PIN, SO_PIN)
    with world.deps.uow() as uow:
        uow.people.add(ceo, "مدیرعامل آزمون")
        for i in range(n):
            uow.companies.add(_company_id(i), f"شرکت {i}", f"41111{i:07d}", 2, ceo_national_id=ceo)
        uow.commit()
    with Token(label, pin=PIN) as tok:
        cert = world.ca.enroll(ceo, "مدیرعامل آزمون", tok, "sign", 730, world.clock)
    signer = Signer(ceo, label, "sign", cert, PIN)
    tid = scenario.scenario.name
    world.clock.set(scenario.tender.announce_at)
    svc.announce(world.deps, tender_spec(world), members_of(scenario), (scenario.price_list.id, 1), formulas_of(world))
    key = svc.load(world.deps, tid).plan.public_key_b64
    blob = base64.b64encode(os.urandom(int(size_mb * 1024 * 1024 * 3 / 4))).decode()
    plain_sizes = []
    t0 = time.perf_counter()
    for i in range(n):
        world.clock.set(scenario.tender.announce_at.replace(minute=(i % 50) + 1))
        bidder = f"x{i}"
        envs = {
            "A": sc.encode_envelope(sc.envelope_from_dict("A", {"guarantee": {"amount_rial": 650_000_000,
                                                                              "valid_until": "1400/08/01"}})),
            "B": sc.encode_envelope(sc.envelope_from_dict("B", {
                "documents": ["articles_of_association", "grade_certificate", "signed_tender_documents"],
                "grade": 2, "attachments": [{"name": "technical.pdf", "content_b64": blob}]})),
            "C": sc.encode_envelope(sc.EnvelopeC.by_coefficient(f"{random.uniform(0.90, 1.05):.3f}")),
        }
        plain_sizes.append([len(v) for v in envs.values()])
        sealed = seal_bid(tid, bidder, envs, key)
        signed = signer.sign(manifest_xml(sealed, world.clock.now()), world.clock, COMPANY_SIGNATORY, _company_id(i))
        result = svc.submit_bid(world.deps, tid, bidder, _company_id(i), sealed,
                                etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
        assert result.accepted, result.reason
    submit_s = time.perf_counter() - t0
    world.clock.set(scenario.tender.opening_at)
    present = [m.id for m in scenario.commission]
    t0 = time.perf_counter()
    outcome = svc.opening_session(world.deps, tid, present)
    svc.draft_minutes(world.deps, tid, outcome)
    minutes = svc.sign_minutes(world.deps, tid, outcome.participants)
    ours = time.perf_counter() - t0
    assert minutes.final and minutes.award.winner

    # Baseline: the same bytes through AES-GCM alone, plus one RSA-PKCS1v15/SHA-256 verification per bid.
    keys = [AESGCM(AESGCM.generate_key(bit_length=256)) for _ in range(3)]
    nonce = os.urandom(12)
    cts = [[keys[j].encrypt(nonce, os.urandom(size), None) for j, size in enumerate(sizes)] for sizes in plain_sizes]
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)  # tokens hold RSA-2048 keys
    with Token(label, pin=PIN) as tok:
        sig = tok.sign("sign", b"manifest")
    t0 = time.perf_counter()
    for bid_cts in cts:
        for j, ct in enumerate(bid_cts):
            keys[j].decrypt(nonce, ct, None)
        public.verify(sig, b"manifest", padding.PKCS1v15(), hashes.SHA256())
    raw_s = time.perf_counter() - t0
    print(f"{'benchmark':58} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    print(f"{f'opening session, {n} bids x {size_mb} MB (s)':58} {ours:10.2f} {raw_s:10.2f} {ours / raw_s:7.1f}")
    print(f"{f'(submission of {n} sealed, signed bids with receipts, s)':58} {submit_s:10.2f}")


def bench_pilot(base: Path) -> None:
    import inspect

    import pilot.runner as runner
    import services.contract
    import services.contract.statements
    import services.tender

    spent = {"services": 0.0, "world": 0.0}
    depth = {"n": 0}

    def timed(fn, bucket):
        def wrapper(*args, **kwargs):
            # Only the outermost service call counts: services call each other.
            depth["n"] += 1
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth["n"] -= 1
                if depth["n"] == 0:
                    spent[bucket] += time.perf_counter() - t
        return wrapper

    for module in (services.tender, services.contract, services.contract.statements):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__.startswith(module.__name__) and not name.startswith("_"):
                setattr(module, name, timed(fn, "services"))
    runner.build_world = timed(runner.build_world, "world")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        runner.run_pilot(workdir=base / "warm")  # warm-up: imports, first SoftHSM load
        spent.update(services=0.0, world=0.0)
        t0 = time.perf_counter()
        runner.run_pilot(workdir=base / "pilot")
        wall = time.perf_counter() - t0
    other = wall - spent["services"] - spent["world"]
    print(f"{'default pilot wall time, whole report (s)':58} {wall:10.2f}")
    print(f"{'  world setup: SoftHSM tokens, CA, registries (s)':58} {spent['world']:10.2f} {spent['world'] / wall:7.0%}")
    print(f"{'  services: rules, crypto, token signatures, store (s)':58} {spent['services']:10.2f} "
          f"{spent['services'] / wall:7.0%}")
    print(f"{'  orchestration: Prefect flows/tasks, artifacts (s)':58} {other:10.2f} {other / wall:7.0%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bids", type=int, default=200)
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--skip-pilot", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bench_opening(args.bids, args.size_mb, Path(d))
        if not args.skip_pilot:
            bench_pilot(Path(d))


if __name__ == "__main__":
    main()
