"""What the benchmarks share (not a benchmark itself: run.sh runs bench/bench_*.py only).

Imported as `benchkit` because a benchmark runs as a script (`.venv/bin/python bench/bench_x.py`),
which puts bench/ first on sys.path.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text


def int_options(**defaults: int) -> argparse.Namespace:
    """The command line's `--some-name N` options, one per keyword (some_name=default), all integers."""
    parser = argparse.ArgumentParser()
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser.parse_args()


def database_kinds(*pg_url_env: str) -> list[str]:
    """SQLite always; PostgreSQL too when one of the `pg_url_env` variables names a server."""
    return ["sqlite"] + (["postgresql"] if any(os.environ.get(e) for e in pg_url_env) else [])


def fresh_database_url(kind: str, tmp: Path, prefix: str, *pg_url_env: str) -> str:
    """A new empty database: an SQLite file in `tmp`, or a new database on the PostgreSQL server
    named by the first of the `pg_url_env` variables that is set (KeyError when none is)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'{prefix}-{uuid.uuid4().hex[:6]}.db'}"
    base = next((os.environ[e] for e in pg_url_env[:-1] if os.environ.get(e)), None) or os.environ[pg_url_env[-1]]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def prepared_engine(url: str) -> Engine:
    """An engine on `url`, migrated, with the unit district-12 that the benchmark contracts use."""
    from store import models as m
    from store.db import make_engine
    from store.migrate import upgrade

    eng = make_engine(url)
    upgrade(eng)
    with eng.begin() as c:
        c.execute(insert(m.Unit), [{"id": "district-12", "code": "12", "name": "منطقهٔ ۱۲", "kind": "district"}])
    return eng


# --- a tender with N sealed bids, for the opening and sitting benchmarks ------------------------------------

def company_id(n: int) -> str:
    """A valid company national ID (11 digits, checksum), distinct for each n."""
    prefix = f"2{n + 1_234_567:09d}"  # digits 4-9 of a company ID are never all zero
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    d = int(prefix[9]) + 2
    total = sum((d + int(prefix[i])) * weights[i] for i in range(10)) % 11
    return prefix + str(0 if total == 10 else total)


class TenderWithBids:
    """The default pilot scenario's tender (no scripted bidders or events) announced in-process, with
    `n` bids whose envelope B carries an attachment of about `size_mb` MB, each dealt and sealed to the
    tender's seats as a bidder's station does (sealing.envelopes.seal_dealt), its manifest signed on a
    token and submitted through services.tender.submit_bid. Not timed as a whole: `seal_s` is the
    time in seal_dealt (dealing the bid's key included), `raw_seal_s` the raw AES-GCM encryption of
    the same plaintexts, `submit_s` the submissions, `plain_sizes` each bid's [A, B, C] sizes.

    shared_tokens: every token in this process's SoftHSM directory with one PIN (pilot.world);
    otherwise each person's own directory and PIN. extra_commission: `[[commission]]` entries added to
    the scenario's (alternates)."""

    def __init__(self, base: Path, n: int, size_mb: float, *, shared_tokens: bool,
                 extra_commission: list[dict] | None = None, name: str = "bench-opening") -> None:
        import random
        import time
        import tomllib

        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from lxml import etree

        from config.policy import load_policy
        from config.settings import BUNDLED_POLICY
        from pilot.runner import members_of, tender_spec
        from pilot.scenario import DEFAULT_SCENARIO, Scenario
        from pilot.world import (
            SHARED_PIN,
            SO_PIN,
            build_world,
            formulas_of,
            simulated_national_id,
            simulated_pin,
            token_label,
        )
        from sealing import content as sc
        from sealing.envelopes import manifest_xml, seal_dealt
        from services import tender as svc
        from services.signers import COMPANY_SIGNATORY, CertKeyWrapper, Signer
        from signing.softhsm import SoftHsm
        from signing.token import Token

        raw = tomllib.loads(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
        raw["bidders"], raw["events"] = [], []
        for key in ("contract", "status_statements", "payments"):
            raw.pop(key, None)
        raw["scenario"]["name"] = name
        raw["commission"] = list(raw["commission"]) + list(extra_commission or [])
        self.scenario = scenario = Scenario.model_validate(raw)
        self.world = world = build_world(scenario, base / "world", load_policy(BUNDLED_POLICY),
                                         shared_tokens=shared_tokens)
        ceo = simulated_national_id(f"{name}:ceo")
        label = token_label(world, ceo)
        if shared_tokens:
            pin, hsm = SHARED_PIN, SoftHsm.for_process(base / "world" / "tokens")
        else:
            pin, hsm = simulated_pin(label), SoftHsm.person(base / "world" / "tokens" / label)
        hsm.init_token(label, pin, SO_PIN)
        with world.deps.uow() as uow:
            uow.people.add(ceo, "مدیرعامل آزمون")
            for i in range(n):
                uow.companies.add(company_id(i), f"شرکت {i}", f"41111{i:07d}", 2, ceo_national_id=ceo)
            uow.commit()
        with Token(label, pin=pin) as tok:
            self.cert = world.ca.enroll(ceo, "مدیرعامل آزمون", tok, "sign", 730, world.clock)
        self.signer = signer = Signer(ceo, label, "sign", self.cert, pin)
        self.tender_id = tid = scenario.scenario.name
        world.clock.set(scenario.tender.announce_at)
        svc.announce(world.deps, tender_spec(world), members_of(scenario), (scenario.price_list.id, 1),
                     formulas_of(world))
        seats = svc.load(world.deps, tid).seats
        blob = base64.b64encode(os.urandom(int(size_mb * 1024 * 1024 * 3 / 4))).decode()
        self.plain_sizes: list[list[int]] = []
        self.seal_s = self.raw_seal_s = self.submit_s = 0.0
        self.sealed_bytes = 0
        raw_key = AESGCM(AESGCM.generate_key(bit_length=256))
        for i in range(n):
            world.clock.set(scenario.tender.announce_at.replace(minute=(i % 50) + 1))
            bidder = f"x{i}"
            envs = {
                "A": sc.encode_envelope(sc.envelope_from_dict("A", {"guarantee": {
                    "amount_rial": 650_000_000, "valid_until": "1400/08/01"}})),
                "B": sc.encode_envelope(sc.envelope_from_dict("B", {
                    "documents": ["articles_of_association", "grade_certificate", "signed_tender_documents"],
                    "grade": 2, "attachments": [{"name": "technical.pdf", "content_b64": blob}]})),
                "C": sc.encode_envelope(sc.EnvelopeC.by_coefficient(f"{random.uniform(0.90, 1.05):.3f}")),
            }
            self.plain_sizes.append([len(v) for v in envs.values()])
            self.sealed_bytes += sum(len(v) for v in envs.values())
            t0 = time.perf_counter()
            # As the bidder's station: the wrapper from the seats' certificates, then deal and seal.
            sealed = seal_dealt(tid, bidder, envs, seats.voting, seats.security, seats.threshold,
                                CertKeyWrapper.from_der(seats.certificates))
            t1 = time.perf_counter()
            nonce = os.urandom(12)
            for v in envs.values():
                raw_key.encrypt(nonce, v, None)
            t2 = time.perf_counter()
            signed = signer.sign(manifest_xml(sealed, world.clock.now()), world.clock, COMPANY_SIGNATORY,
                                 company_id(i))
            t3 = time.perf_counter()
            result = svc.submit_bid(world.deps, tid, bidder, company_id(i), sealed,
                                    etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
            self.submit_s += time.perf_counter() - t3
            assert result.accepted, result.reason
            self.seal_s += t1 - t0
            self.raw_seal_s += t2 - t1
        world.ca.crl(world.clock)


# --- the production-like stack, for the orchestration and event benchmarks -------------------------------------

@contextmanager
def stack_up(world_dir: Path, run_dir: Path, workers: int, token_conf: Path, pin: str) -> Iterator[dict]:
    """`eproc up --json` (private PostgreSQL, Prefect server, `workers` process workers) with the world in
    `world_dir` and its tokens at `token_conf`; yields up's JSON; `eproc down` and the cluster removed at
    the end. Raises SystemExit with up's output when it fails."""
    from eproc.stack.config import default_pg_dir
    from eproc.stack.procs import free_port

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "EPROC_DATA_DIR": str(world_dir), "SOFTHSM2_CONF": str(token_conf),
           "EPROC_TOKEN_PIN": pin, "PYTHONPATH": str(root)}
    eproc = [str(Path(sys.executable).parent / "eproc")]
    pg_dir = default_pg_dir(run_dir)
    out = subprocess.run(eproc + ["up", "--json", "--workers", str(workers), "--port", str(free_port()),
                                  "--pg-port", str(free_port()), "--pg-dir", str(pg_dir), "--run-dir", str(run_dir)],
                         env=env, cwd=root, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(out.stdout + out.stderr)
    try:
        yield json.loads(out.stdout)
    finally:
        subprocess.run(eproc + ["down", "--run-dir", str(run_dir)], env=env, cwd=root, capture_output=True,
                       timeout=300)
        shutil.rmtree(pg_dir, ignore_errors=True)
