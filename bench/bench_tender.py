"""Tender benchmark, each figure against a baseline measured in the same run.

1. The opening session for N bids whose envelope B carries an S MB document, on the path of issue 12
   (each bid's key dealt by its bidder to the seats; at the sitting the engine opens a key on its
   token, each member releases their parts at their own station, the engine rebuilds each bid's key,
   verifies each bidder's signature, decrypts A/B/C, evaluates; the Article 13 minutes generated and
   signed by every participant at their station) vs the raw AES-GCM decryption of the same bytes plus
   one RSA signature verification per bid (cryptography, no engine code). The members' stations here
   are in-process (pilot.stations); bench_sitting.py runs them as processes of their own.
2. A whole default pilot's wall time split into the work inside the services (domain rules, crypto,
   tokens, database) and everything else (Prefect orchestration, world setup).

    .venv/bin/python bench/bench_tender.py [--bids 200] [--size-mb 1] [--skip-pilot]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")


def bench_opening(n: int, size_mb: float, base: Path) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from benchkit import TenderWithBids
    from services import tender as svc
    from signing.token import Token

    # Bids dealt and sealed to the tender's seats as the bidders' stations do (issue 12), submitted in-process.
    t = TenderWithBids(base, n, size_mb, shared_tokens=True)
    world, scenario, tid = t.world, t.scenario, t.tender_id
    deps, human = world.deps, world.deps.human()
    world.clock.set(scenario.tender.opening_at)
    view = svc.load(deps, tid)
    members = {m.id: m.name for m in view.members}
    t0 = time.perf_counter()
    # The sitting as the tender flow holds it: the sitting's key on the engine's token; each member
    # releases their parts at their own station (pilot.stations: the API in-process, the member's own
    # token); the chair's attendance; the bids' keys rebuilt, A/B/C opened, evaluated, recorded; the
    # minutes generated, confirmed and signed by every participant at their station.
    svc.open_sitting(deps, tid, "opening")
    human.release_parts(tid, "opening", members, world.clock.now())
    present = svc.accept_attendance(deps, view, "opening", human.attendance(tid, "opening", members,
                                                                            world.clock.now()))
    outcome = svc.opening_session(deps, tid, present)
    svc.draft_minutes(deps, tid, outcome)
    assert svc.confirm_minutes(deps, tid, human.confirm_minutes(tid, svc.award_summary(deps, tid)))
    human.minutes_signed(tid, svc.ARTICLE13, outcome.participants)
    minutes = svc.signed_minutes(deps, tid)
    ours = time.perf_counter() - t0
    assert minutes.final and minutes.award.winner

    # Baseline: the same bytes through AES-GCM alone, plus one RSA-PKCS1v15/SHA-256 verification per bid.
    keys = [AESGCM(AESGCM.generate_key(bit_length=256)) for _ in range(3)]
    nonce = os.urandom(12)
    cts = [[keys[j].encrypt(nonce, os.urandom(size), None) for j, size in enumerate(sizes)] for sizes in t.plain_sizes]
    public = t.cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)  # tokens hold RSA-2048 keys
    with Token(t.signer.token_label, pin=t.signer.pin) as tok:
        sig = tok.sign("sign", b"manifest")
    t0 = time.perf_counter()
    for bid_cts in cts:
        for j, ct in enumerate(bid_cts):
            keys[j].decrypt(nonce, ct, None)
        public.verify(sig, b"manifest", padding.PKCS1v15(), hashes.SHA256())
    raw_s = time.perf_counter() - t0
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print(f"{'benchmark':58} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    print(f"{f'opening session, {n} bids x {size_mb} MB (s)':58} {ours:10.2f} {raw_s:10.2f} {ours / raw_s:7.1f}")
    print(f"{f'(submission of {n} dealt, sealed, signed bids with receipts, s)':58} {t.submit_s:10.2f}")


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
