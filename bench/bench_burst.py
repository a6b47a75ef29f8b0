"""Deadline burst benchmark (issue 11 "Done when"): N sealed bids of M MB each, sent over HTTP by C
concurrent clients to the real API server, against a floor measured in the same run.

The server is `eproc serve` (uvicorn) started as its own process on a free 127.0.0.1 port, with its
own EPROC_DATA_DIR (SQLite, or PostgreSQL with --database postgresql) and only the engine's SoftHSM
token, as tests/e2e/test_r01_tender_announced_and_bid_from_separate_stations.py runs it.

Before the timed part (not measured): the registry (units, people, roles, N companies), the CA and
the people's tokens; the officer imports and the deputy approves the price list and formulas, the
officer creates a price inquiry, the chair signs its notice, all over the API from token-signed
stations. Each company's registered signatory logs in as `company_signatory@<company>` (challenge
signed on the token): N distinct companies, one signatory per client station, each the registered
signatory of N/C companies; so the burst carries N pre-issued sessions, and login is NOT part of
it. Then every bid is sealed from the published, verified notice (envelope B carries an attachment
making the file about M MB) and its manifest signed on the signatory's token.

Timed: C client threads (httpx, one connection each) stream their stations' bid files (64 KiB
chunks, as `eproc bid submit` does) to POST /v1/tenders/{id}/bids; bids per second over the whole
burst (every answer counted), per-request latency (p50/p95/max), the server's RSS (VmRSS, and VmHWM
as the peak) before and after and its CPU time (/proc/PID/stat). Every 201's receipt is verified
as a station does (after the timed part); any other answer is counted by reason, and the goal is
then not judged.

The floor, in this process, per bid: SHA-256 of the bid file's bytes, one RSA-2048 verification
(cryptography), one raw receipt signature on a SoftHSM token (session opened once) and one
1-transaction insert of the bytes as a blob into the same kind of database as the server's
(store.db.make_engine: SQLite WAL with BEGIN IMMEDIATE, or PostgreSQL). Run sequentially and in 2
processes (the machine's 2 cores); the faster is the baseline. Goal: burst >= 0.5 x floor.

    .venv/bin/python bench/bench_burst.py [--bids 200] [--size-mb 1] [--clients 8]
        [--database sqlite|postgresql|all] [--profile] [--lock-submissions] [--workers N] [--spy FILE]
    bash scripts/with-postgres.sh .venv/bin/python bench/bench_burst.py --database postgresql

--database: SQLite by default (bench/run.sh); postgresql needs EPROC_TEST_PG_URL. --profile runs the
same app under cProfile (CPU time of every thread; the figures then carry the profiler's overhead),
prints where the server's time goes and keeps the statistics in $TMPDIR/bench-burst-server.prof.
--lock-submissions (a diagnostic) serialises submit_bid inside the server process: the burst
without the races of concurrent submissions. --workers N (N > 1) starts the same app in N uvicorn
worker processes sharing the port (`uvicorn --workers`; what `eproc serve` would do with workers);
RSS and CPU figures are then summed over the server's processes. --spy FILE samples the server with
py-spy during the burst only (threads holding the GIL, 200 Hz, raw format). Beside the server's CPU the
run prints PostgreSQL's CPU per bid (every postgres process, exited backends included) and how busy
the whole machine was: on two cores the burst's rate follows the CPU that server, database and
clients spend together per bid. A failing run keeps the server log in $TMPDIR/bench-burst-serve.log.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, the project's packages may not all be
    sys.path.insert(1, str(ROOT))
EPROC = str(Path(sys.executable).parent / "eproc")
UNIT = "district-12"
LIST_ID = "technical-civil/1400-burst"
TENDER = "T-BURST-1"
PIN, SO_PIN = "246810", "97531"
CHUNK = 64 * 1024
STAFF = (("engine", "transactions_system"), ("officer", "contracts_officer"), ("deputy", "deputy"),
         ("chair", "chair"), ("finance", "finance"), ("technical", "technical"), ("security", "security"))


def _company_id(n: int) -> str:
    """A valid company national ID (11 digits, checksum), distinct for each n (as bench_tender)."""
    prefix = f"2{n + 1_234_567:09d}"
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    d = int(prefix[9]) + 2
    total = sum((d + int(prefix[i])) * weights[i] for i in range(10)) % 11
    return prefix + str(0 if total == 10 else total)


def _jalali(when: datetime) -> str:
    from domain.persian import format_jalali_date, to_tehran

    t = to_tehran(when)
    return f"{format_jalali_date(when)} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def _stations():
    """The stations' client and checks (stations/: what a person's own machine runs)."""
    from stations.client import Station
    from stations.verify import verify_notice, verify_receipt

    return Station, verify_notice, verify_receipt


# --- /proc readings of the server process ------------------------------------------------------------

def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's worker processes), from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) in MiB of `pid` and its worker processes (summed), from
    /proc/PID/status (NaN once it has exited)."""
    out = {"VmRSS": math.nan, "VmHWM": math.nan}
    for p in _tree(pid):
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = (0 if math.isnan(out[key]) else out[key]) + int(value.split()[0]) / 1024
    return out


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / hz, sum(fields[:8]) / hz


def postgres_cpu_seconds(database_url: str | None) -> float:
    """User + system CPU seconds of the PostgreSQL server behind `database_url` (its postmaster, found by
    the port on its command line, and every backend it started), including backends that exited (the
    postmaster's cutime + cstime), from /proc; 0 for SQLite (None). Other clusters on the machine are
    not counted."""
    if not database_url:
        return 0.0
    from sqlalchemy.engine import make_url

    port = make_url(database_url).port or 5432
    stats: dict[int, list[str]] = {}
    postmaster = None
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != "postgres":
                continue
            fields = (d / "stat").read_text().rpartition(")")[2].split()
            args = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        stats[int(d.name)] = fields
        if b"-p" in args and args[args.index(b"-p") + 1:][:1] == [str(port).encode()]:
            postmaster = int(d.name)
    if postmaster is None:
        return 0.0
    total = sum(int(f) for f in stats[postmaster][11:15])  # its own time and its exited backends'
    total += sum(int(f[11]) + int(f[12]) for f in stats.values() if int(f[1]) == postmaster)  # live backends
    return total / os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` and its worker processes (all threads), from /proc/PID/stat."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


# --- the world: registry, CA, tokens, the server ------------------------------------------------------

class World:
    """Everything the burst needs, set up before it: server process, sessions, sealed bid files."""

    def __init__(self, tmp: Path, database_url: str | None, n_bids: int, clients: int) -> None:
        self.tmp, self.database_url, self.n, self.clients = tmp, database_url, n_bids, clients
        self.server_dir = tmp / "server"
        self.server_dir.mkdir()
        self.url = ""
        self.server: subprocess.Popen | None = None
        self.spy: Path | None = None  # --spy: where py-spy writes its samples of the burst
        self.log = tmp / "serve.log"
        from pilot.world import simulated_national_id

        self.people = {name: (simulated_national_id(f"burst:{name}"), role) for name, role in STAFF}
        self.signatories = [f"sig{c}" for c in range(clients)]
        for s in self.signatories:
            self.people[s] = (simulated_national_id(f"burst:{s}"), "company_signatory")
        self.companies = [_company_id(i) for i in range(n_bids)]  # company i: signatory i % clients

    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.server_dir / 'eproc.db'}"

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EPROC_", "PREFECT_API", "SOFTHSM2_CONF"))}
        env.update({"PREFECT_HOME": str(self.tmp / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                    "DO_NOT_TRACK": "1", "PYTHONPATH": str(ROOT), "EPROC_DATA_DIR": str(self.server_dir)})
        if self.database_url:
            env["EPROC_DATABASE_URL"] = self.database_url
        return env

    def registry_and_tokens(self) -> None:
        """The registration office and the CA, before the server starts: units, people, roles, the
        companies (each with its registered signatory), a token and certificate for every person; the
        engine's token in a SoftHSM store of its own (enrolled by `eproc ca enroll` in that store)."""
        from config.policy import load_policy
        from config.settings import BUNDLED_POLICY
        from domain.clock import SystemClock
        from services.certificate_registry import SqlCertificateRegistry
        from signing.ca import MunicipalCA
        from signing.keytransport import choose_mechanism
        from signing.softhsm import SoftHsm
        from signing.token import Token
        from store.db import make_engine, session_factory
        from store.migrate import upgrade
        from store.uow import UnitOfWork

        engine = make_engine(self.db_url())
        upgrade(engine)
        sessions = session_factory(engine)
        day = datetime.now(timezone.utc).date() - timedelta(days=2)
        with UnitOfWork(sessions) as uow:
            for u in load_policy(BUNDLED_POLICY).units:
                uow.units.add(u.id, u.code, u.name, u.kind)
            for name, (nid, role) in self.people.items():
                uow.people.add(nid, name)
                if role != "company_signatory":
                    uow.roles.assign(nid, role, "municipality" if role == "transactions_system" else UNIT, day)
            for i, cid in enumerate(self.companies):
                ceo = self.people[self.signatories[i % self.clients]][0]
                uow.companies.add(cid, f"شرکت آزمون {i}", f"41111{i:07d}", 2, ceo_national_id=ceo)
            uow.commit()
        clock = SystemClock()
        ca = MunicipalCA.init(self.server_dir / "ca", "مرجع آزمایشی شهرداری تهران", clock,
                              registry=SqlCertificateRegistry(sessions), key_size=2048)
        self.ca_pem = ca.ca_certificate_pem()
        hsm = SoftHsm.for_process(self.tmp / "stations")  # every station's token: this process only
        for name, (nid, _) in self.people.items():
            if name == "engine":
                continue
            hsm.init_token(name, PIN, SO_PIN)
            with Token(name, pin=PIN) as tok:
                cert = ca.enroll(nid, name, tok, "sign", 30, clock)
                mechanism = choose_mechanism(tok, "sign")
            with UnitOfWork(sessions) as uow:  # as `eproc ca enroll` records it
                row = uow.certificates.get(cert.serial_number)
                assert row is not None
                row.key_transport = mechanism
                uow.commit()
        hsm.init_token("floor", PIN, SO_PIN)  # the floor's receipt signatures
        with Token("floor", pin=PIN) as tok:
            tok.generate_keypair("sign")
        engine.dispose()

        # The engine: its own store, enrolled from a process that sees only that store.
        edir = self.tmp / "engine-hsm"
        (edir / "tokens").mkdir(parents=True)
        self.engine_conf = edir / "softhsm2.conf"
        self.engine_conf.write_text(f"directories.tokendir = {edir / 'tokens'}\nobjectstore.backend = file\n"
                                    "log.level = ERROR\nslots.removable = true\nslots.mechanisms = ALL\n"
                                    "library.reset_on_fork = false\n", encoding="utf-8")
        env = {**self.base_env(), "SOFTHSM2_CONF": str(self.engine_conf), "EPROC_TOKEN_PIN": PIN}
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "engine", "--pin", PIN,
                        "--so-pin", SO_PIN], env=env, check=True, capture_output=True, timeout=60)
        out = subprocess.run([EPROC, "ca", "enroll", "--person", self.people["engine"][0], "--token", "engine"],
                             env=env, capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"eproc ca enroll (engine): {out.stdout}\n{out.stderr}")

    def start_server(self, profile_stats: Path | None = None, lock_submissions: bool = False,
                     workers: int = 1) -> None:
        """`eproc serve` on a free port; with `profile_stats` or `lock_submissions`, the same app started
        by `serve_wrapped` (under cProfile / with submit_bid serialised, a diagnostic)."""
        import httpx

        from eproc.stack.procs import free_port

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**self.base_env(), "SOFTHSM2_CONF": str(self.engine_conf), "EPROC_TOKEN_PIN": PIN}
        cmd = [EPROC, "serve", "--port", str(port)]
        if profile_stats is not None or lock_submissions or workers > 1:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-wrapped", "--port", str(port),
                   "--workers", str(workers)]
            cmd += ["--profile-stats", str(profile_stats)] if profile_stats is not None else []
            cmd += ["--lock-submissions"] if lock_submissions else []
        with open(self.log, "wb") as out:
            self.server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.server.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + self.log.read_text())
            time.sleep(0.3)

    def stop_server(self) -> None:
        """SIGINT: uvicorn shuts down, then re-raises it (KeyboardInterrupt, which `serve_wrapped`
        catches to write its profile; SIGTERM would end the process before that)."""
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            self.server.wait(timeout=120)

    def tender(self) -> None:
        """Price list, formulas, tender and notice over the API, each signed on its person's token
        (stations.operator, as `eproc pricelist|formula|tender` do)."""
        from services.pricelists import APPROVER_ROLE, OPERATOR_ROLE, read_price_file
        from services.tender.files import NOTICE_SIGNATORY
        from stations import operator as op

        Station, _, _ = _stations()
        prices = self.tmp / "prices.csv"
        prices.write_text("کد ردیف,واحد,بهای واحد (ریال)\n010101,m3,\"۱٬۲۵۰٬۰۰۰\"\n020305,m2,480000\n",
                          encoding="utf-8")
        with Station(self.url, "officer") as officer, Station(self.url, "deputy") as deputy:
            officer.login(OPERATOR_ROLE, UNIT)
            op.import_price_list(officer, read_price_file(prices, LIST_ID, 1, "civil"))
            deputy.login(APPROVER_ROLE, UNIT)
            op.approve_price_list(deputy, LIST_ID, 1, "TC-BURST-1")
            for formula in ("estimate", "abnormally-low", "guarantee"):
                op.approve_formula(deputy, formula, 1, "TC-1399-118")
            now = datetime.now(timezone.utc)
            # The burst ends before the deadline (checked): setup and burst take a few minutes.
            self.deadline = now + timedelta(minutes=20)
            members = "\n".join(f'[[commission]]\nid = "{n}"\nrole = "{n}"\nname = "{n}"\n'
                                f'national_id = "{self.people[n][0]}"\n'
                                for n in ("chair", "finance", "technical", "security"))
            data = f'''[price_list]
id = "{LIST_ID}"
version = 1

[tender]
id = "{TENDER}"
kind = "price_inquiry"
procedure = "one_stage"
unit = "{UNIT}"
title = "استعلام بهای لکه‌گیری آسفالت — آزمون هجوم پیشنهادها پیش از مهلت"
items = [ {{ code = "010101", quantity = 100 }}, {{ code = "020305", quantity = 50 }} ]
guarantee_rial = 10_000_000
guarantee_valid_until = "{_jalali(now + timedelta(days=90)).split()[0]}"
deadline = "{_jalali(self.deadline)}"
opening_at = "{_jalali(self.deadline + timedelta(minutes=1))}"
required_documents = ["grade_certificate"]
allowed_grades = [1, 2, 3]

{members}'''.encode()
            op.create_tender(officer, data, "tender.toml")
        with Station(self.url, "chair") as chair:
            chair.login(NOTICE_SIGNATORY, UNIT)
            self.notice_xml, _ = op.sign_notice(chair, TENDER, UNIT, self.ca_pem)

    def sessions_and_bids(self, size_mb: float) -> None:
        """Each company's session (its signatory's station logs in as company_signatory@company), then
        its bid sealed from the verified notice and the manifest signed on the signatory's token."""
        from domain.clock import SystemClock
        from sealing import content as sc
        from services.signers import COMPANY_SIGNATORY
        from services.tender.files import pack_bid_file
        from stations.bidder import seal_from_notice

        Station, _, _ = _stations()
        self.bearer: dict[str, str] = {}
        t0 = time.perf_counter()
        for c, sig in enumerate(self.signatories):
            with Station(self.url, sig) as st:
                for cid in self.companies[c::self.clients]:
                    st.login(COMPANY_SIGNATORY, cid)
                    self.bearer[cid] = st.client.headers["authorization"]
        self.login_s = time.perf_counter() - t0

        bids = self.tmp / "bids"
        bids.mkdir()
        clock = SystemClock()
        valid_until = _jalali(datetime.now(timezone.utc) + timedelta(days=60)).split()[0]
        a = sc.encode_envelope(sc.envelope_from_dict("A", {"guarantee": {"amount_rial": 10_000_000,
                                                                          "valid_until": valid_until}}))
        attach = max(1, int(size_mb * 1024 * 1024) - 4096) * 3 // 4  # base64 in B: the file is about size_mb
        self.files: dict[str, Path] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        signers = {}
        t0 = time.perf_counter()
        for i, cid in enumerate(self.companies):
            sig = self.signatories[i % self.clients]
            if sig not in signers:
                with Station(self.url, sig) as st:
                    signers[sig] = st.signer
            b = sc.encode_envelope(sc.envelope_from_dict("B", {
                "documents": ["grade_certificate"], "grade": 2,
                "attachments": [{"name": "technical.pdf", "content_b64": base64.b64encode(os.urandom(attach)).decode()}]}))
            price = sc.encode_envelope(sc.envelope_from_dict("C", {"coefficient": f"{random.uniform(0.90, 1.05):.3f}"}))
            # As `eproc bid seal`: the notice verified with the CA, sealed to it, manifest signed on the token.
            bid, _ = seal_from_notice(TENDER, cid, cid, {"A": a, "B": b, "C": price}, self.notice_xml, self.ca_pem,
                                      signers[sig], clock)
            path = bids / f"{cid}.sealed"
            path.write_bytes(pack_bid_file(bid))
            self.files[cid] = path
            self.hashes[cid] = bid.sealed.hashes()
        self.seal_s = time.perf_counter() - t0
        self.file_bytes = sum(p.stat().st_size for p in self.files.values())


# --- the burst ------------------------------------------------------------------------------------------

def burst(world: World) -> dict:
    """Every bid streamed by `world.clients` threads at once; latency per request, wall time, server
    memory and CPU, the answers other than 201 counted by reason. Returns the figures; raises when a
    request got no answer recorded or a 201's receipt does not verify."""
    import httpx

    assert world.server is not None
    pid = world.server.pid
    results: list[tuple[str, float, float, int, bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(world.clients + 1)

    def client(c: int) -> None:
        mine = world.companies[c::world.clients]
        with httpx.Client(base_url=world.url, timeout=600) as http:
            start.wait()
            for cid in mine:
                def chunks(path: Path = world.files[cid]):
                    with path.open("rb") as f:
                        while chunk := f.read(CHUNK):
                            yield chunk

                t = time.perf_counter()
                try:
                    r = http.post(f"/v1/tenders/{TENDER}/bids", content=chunks(),
                                  headers={"authorization": world.bearer[cid],
                                           "content-type": "application/octet-stream"})
                    status, body = r.status_code, r.content
                except httpx.TransportError as exc:  # no answer at all (the server died or hung up)
                    status, body = 0, f"{type(exc).__name__}: {exc}".encode()
                done = time.perf_counter()
                with lock:
                    results.append((cid, t, done, status, body))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(world.clients)]
    for t in threads:
        t.start()
    mem0, cpu0 = proc_memory(pid), proc_cpu_seconds(pid)
    spy = None
    if world.spy is not None:  # diagnostic: sample the server during the burst only
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200", "-f", "raw",
                                "--gil", "-o", str(world.spy), "--pid", str(pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    own0, machine0, db0 = time.process_time(), machine_cpu_seconds(), postgres_cpu_seconds(world.database_url)
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = max(r[2] for r in results) - t0
    own = time.process_time() - own0
    machine1, db1 = machine_cpu_seconds(), postgres_cpu_seconds(world.database_url)
    mem1, cpu1 = proc_memory(pid), proc_cpu_seconds(pid)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    failed: dict[str, list] = {}  # "status REASON" -> [count, one detail]
    for _, _, _, status, body in results:
        if status != 201:
            try:
                answer = json.loads(body)
                key, detail = f"{status} {answer['reason']}", str(answer.get("detail") or "")
            except (ValueError, KeyError, TypeError):
                key, detail = f"{status}", body.decode(errors="replace")[:80]
            failed.setdefault(key, [0, detail])[0] += 1
    if len(results) != world.n:
        raise RuntimeError(f"{len(results)} answers for {world.n} bids")
    _, _, verify_receipt = _stations()
    for cid, _, _, status, body in results:  # after the timed part: every receipt as a station checks it
        if status == 201:
            verify_receipt(body, world.ca_pem, TENDER, cid, world.hashes[cid])
    lat = sorted(done - t for _, t, done, _, _ in results)
    # Every answer counts in the rate; failures are reported beside it.
    return {"wall": wall, "rate": world.n / wall, "p50": statistics.median(lat),
            "p95": lat[max(0, math.ceil(0.95 * len(lat)) - 1)], "max": lat[-1],
            "rss0": mem0["VmRSS"], "rss1": mem1["VmRSS"], "hwm0": mem0["VmHWM"], "hwm1": mem1["VmHWM"],
            "server_cpu": cpu1 - cpu0, "client_cpu": own,
            "machine_busy": (machine1[0] - machine0[0]) / max(machine1[1] - machine0[1], 1e-9),
            "db_cpu": db1 - db0, "failed": failed, "exit": world.server.poll(),
            "accepted": sum(1 for r in results if r[3] == 201)}


# --- the floor --------------------------------------------------------------------------------------------

def _floor_setup(url: str, table: str) -> None:
    from sqlalchemy import text

    from store.db import make_engine

    eng = make_engine(url)
    blob = "BYTEA" if eng.dialect.name == "postgresql" else "BLOB"
    with eng.begin() as c:
        c.execute(text(f"CREATE TABLE IF NOT EXISTS {table} (id SERIAL PRIMARY KEY, sha256 TEXT NOT NULL, "
                       f"data {blob} NOT NULL)" if blob == "BYTEA" else
                       f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, "
                       f"data {blob} NOT NULL)"))
    eng.dispose()


def _floor_worker(paths: list[str], url: str, table: str, pin: str, pub_pem: bytes, signature: bytes,
                  message: bytes, ready, go, out) -> None:
    """Per bid: SHA-256 of the bytes, one RSA-2048 verification, one token signature, one blob insert.
    Runs in this process (sequential) or in a spawned process (parallel); reports (start, end)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from sqlalchemy import text

    from signing.token import Token
    from store.db import make_engine

    data = [Path(p).read_bytes() for p in paths]  # in memory: the server has the bytes from the network
    public = serialization.load_pem_public_key(pub_pem)
    assert isinstance(public, rsa.RSAPublicKey)  # tokens hold RSA-2048 keys
    eng = make_engine(url)
    insert = text(f"INSERT INTO {table} (sha256, data) VALUES (:h, :d)")
    with Token("floor", pin=pin) as tok:
        tok.sign("sign", message)  # warm: session open, key found
        if ready is not None:
            ready.put(True)
            go.wait()
        start = time.monotonic()
        for blob in data:
            digest = hashlib.sha256(blob).hexdigest()
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            tok.sign("sign", digest.encode() + message)
            with eng.begin() as c:
                c.execute(insert, {"h": digest, "d": blob})
        end = time.monotonic()
    eng.dispose()
    out.put((start, end))


def floor(world: World, url: str) -> dict:
    """The floor's rate (bids/s) sequentially in this process and in 2 spawned processes."""
    import queue

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from signing.token import Token

    _floor_setup(url, "floor_blobs")
    message = b"<SignedInfo>" + os.urandom(700) + b"</SignedInfo>"  # about a manifest's SignedInfo
    with Token(world.signatories[0], pin=PIN) as tok:
        signature = tok.sign("sign", message)
        der = tok.certificate("sign")
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    pub = cert.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    paths = [str(world.files[cid]) for cid in world.companies]
    out: queue.Queue = queue.Queue()
    _floor_worker(paths, url, "floor_blobs", PIN, pub, signature, message, None, None, out)
    s, e = out.get()
    seq = world.n / (e - s)

    ctx = mp.get_context("spawn")  # a fresh PKCS#11 library per process (no fork after C_Initialize)
    ready, go, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_floor_worker, args=(paths[k::2], url, "floor_blobs", PIN, pub, signature, message,
                                                     ready, go, results)) for k in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    go.set()
    spans = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    par = world.n / (max(e for _, e in spans) - min(s for s, _ in spans))
    return {"sequential": seq, "parallel": par}


# --- the wrapped server (--profile, --lock-submissions) ---------------------------------------------------

def wrapped_app():
    """The app `eproc serve` builds (uvicorn worker processes import it by name: --workers)."""
    from api.app import create_app
    from config.settings import get_settings
    from eproc import wiring
    from signing.token import keep_sessions

    keep_sessions()  # as `eproc serve` does (a long-running server keeps its token's session logged in)
    settings = get_settings()
    return create_app(wiring.production(settings), settings=settings)


def serve_wrapped(port: int, stats_path: Path | None, lock_submissions: bool, workers: int = 1) -> None:
    """What `eproc serve` runs (the production container, uvicorn on 127.0.0.1), optionally with
    cProfile in the event loop's thread and in every worker thread (the merged statistics written to
    `stats_path` when the server stops on SIGINT), and optionally with every submit_bid of the
    process serialised by one lock (a diagnostic: what the burst does without the races of
    concurrent submissions)."""
    import cProfile
    import pstats

    import uvicorn

    from api.app import create_app
    from config.settings import get_settings
    from eproc import wiring
    from signing.token import keep_sessions

    if workers > 1:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        uvicorn.run("bench_burst:wrapped_app", factory=True, workers=workers, host="127.0.0.1", port=port,
                    log_level="info", server_header=False)
        return
    keep_sessions()  # as `eproc serve` does
    settings = get_settings()
    app = create_app(wiring.production(settings), settings=settings)
    if lock_submissions:
        import api.routers.tenders as tenders

        submit, one_at_a_time = tenders.submit_bid, threading.Lock()

        def serialised(*args, **kwargs):
            with one_at_a_time:
                return submit(*args, **kwargs)

        tenders.submit_bid = serialised
    if stats_path is None:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", server_header=False)
        return
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(frame, event, arg):  # the first event of a new thread: its own profiler
        sys.setprofile(None)
        p = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(p)
        p.enable()

    threading.setprofile(start_in_thread)
    main = cProfile.Profile(time.thread_time)  # CPU time of each thread: waiting is not counted
    profiles.append(main)
    main.enable()
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", server_header=False)
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it shut down on
        pass
    main.disable()
    with lock:
        stats = pstats.Stats(main)
        for p in profiles[1:]:
            try:
                stats.add(p)
            except TypeError:  # a thread that never ran anything profiled
                pass
    stats.dump_stats(str(stats_path))


def print_profile(stats_path: Path, n: int, lines: int = 28) -> None:
    import pstats

    stats = pstats.Stats(str(stats_path))
    print(f"\nserver profile (cProfile, CPU time of every thread; ms per bid = total / {n}):")
    width = 92
    rows = []
    for (file, line, fn), (_, _, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        rows.append((ct, tt, f"{short}:{line}({fn})"))
    print(f"  {'cumulative ms/bid':>17} {'own ms/bid':>10}  function")
    for ct, tt, name in sorted(rows, reverse=True)[:lines * 2]:
        if "threading.py" in name or "asyncio/" in name or "<built-in method select" in name:
            continue
        print(f"  {ct * 1000 / n:17.1f} {tt * 1000 / n:10.1f}  {name[-width:]}")
    print(f"\n  {'own ms/bid':>10}  function (by own time)")
    for _, tt, name in sorted(rows, key=lambda row: row[1], reverse=True)[:lines]:
        print(f"  {tt * 1000 / n:10.1f}  {name[-width:]}")


# --- main ------------------------------------------------------------------------------------------------

def run(kind: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as d:
        tmp = Path(d)
        if kind == "postgresql":
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from benchkit import fresh_database_url

            server_url = fresh_database_url("postgresql", tmp, "burst", "EPROC_TEST_PG_URL")
            floor_url = fresh_database_url("postgresql", tmp, "floor", "EPROC_TEST_PG_URL")
        else:
            server_url, floor_url = None, f"sqlite:///{tmp / 'floor.db'}"
        world = World(tmp, server_url, args.bids, args.clients)
        world.spy = args.spy
        t0 = time.perf_counter()
        world.registry_and_tokens()
        stats = tmp / "server.prof"
        world.start_server(stats if args.profile else None, args.lock_submissions, args.workers)
        try:
            world.tender()
            world.sessions_and_bids(args.size_mb)
            setup = time.perf_counter() - t0
            b = burst(world)
            if datetime.now(timezone.utc) >= world.deadline:
                raise RuntimeError("the burst ended after the tender's deadline")
        except BaseException:
            world.stop_server()
            kept = Path(tempfile.gettempdir()) / "bench-burst-serve.log"
            kept.write_bytes(world.log.read_bytes())
            print(f"server log kept in {kept}; its tail:\n" + world.log.read_text(errors="replace")[-3000:],
                  file=sys.stderr)
            raise
        finally:
            world.stop_server()
        log = world.log.read_text(errors="replace")
        tracebacks = sum(1 for line in log.splitlines() if "| ERROR" in line or line.startswith("ERROR:"))
        if tracebacks:
            kept = Path(tempfile.gettempdir()) / "bench-burst-serve.log"
            kept.write_bytes(world.log.read_bytes())
        if args.profile:
            kept_stats = Path(tempfile.gettempdir()) / "bench-burst-server.prof"
            kept_stats.write_bytes(stats.read_bytes())
        f = floor(world, floor_url)
    base = max(f["sequential"], f["parallel"])
    which = "2 processes" if f["parallel"] >= f["sequential"] else "sequential"
    mb = world.file_bytes / world.n / 1024 / 1024
    tag = f"[{'SQLite' if kind == 'sqlite' else 'PostgreSQL'}]" + (" (under cProfile)" if args.profile else "")
    print(f"setup before the burst: {setup:.1f} s (of which {world.n} logins {world.login_s:.1f} s, "
          f"sealing and signing {world.n} bids {world.seal_s:.1f} s); bid files {mb:.2f} MB each")
    print(f"floor per bid (SHA-256 + RSA-2048 verify + SoftHSM signature + blob insert of the file): "
          f"sequential {f['sequential']:.1f} bids/s, 2 processes {f['parallel']:.1f} bids/s -> baseline {which}")
    print(f"{'benchmark':66} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    label = f"deadline burst, {world.n} bids x {mb:.2f} MB, {world.clients} clients {tag}"
    print(f"{label + ' (bids/s)':66} {b['rate']:10.1f} {base:10.1f} {b['rate'] / base:7.2f}")
    per_bid = 1 / f["sequential"]
    print(f"{'  latency of POST .../bids, p95 (s) vs floor per bid':66} {b['p95']:10.3f} {per_bid:10.4f} "
          f"{b['p95'] / per_bid:7.0f}")
    print(f"{'  latency p50 / max (s)':66} {b['p50']:10.3f} {b['max']:10.3f}")
    cpu_bid = b["server_cpu"] / world.n
    print(f"{'  server CPU per bid (ms) vs floor wall per bid (ms)':66} {cpu_bid * 1000:10.1f} "
          f"{per_bid * 1000:10.1f} {cpu_bid / per_bid:7.1f}")
    print(f"{'  client threads CPU during the burst (s), burst wall (s)':66} {b['client_cpu']:10.1f} {b['wall']:10.1f}")
    if b["db_cpu"]:
        print(f"{'  PostgreSQL CPU per bid (ms; that cluster only)':66} {b['db_cpu'] * 1000 / world.n:10.1f}")
    print(f"{'  machine CPU busy during the burst (all cores, every process)':66} "
          f"{100 * b['machine_busy']:9.0f}%")
    print(f"{'  server RSS before -> after the burst (MiB)':66} {b['rss0']:10.0f} {b['rss1']:10.0f}")
    print(f"{'  server peak RSS (VmHWM) before -> after (MiB)':66} {b['hwm0']:10.0f} {b['hwm1']:10.0f}")
    ok = b["accepted"] == world.n and not tracebacks and b["exit"] is None
    if b["exit"] is not None:
        print(f"  THE SERVER DIED during the burst (exit status {b['exit']}; negative: killed by that signal)")
    if not ok:
        print(f"  ACCEPTED {b['accepted']} of {world.n} bids; not accepted: {b['failed']}; {tracebacks} errors in "
              f"the server log (kept: {Path(tempfile.gettempdir()) / 'bench-burst-serve.log'})")
    goal = b["rate"] >= 0.5 * base
    verdict = ("met" if goal else "MISSED") if ok else "NOT JUDGED (the server failed bids)"
    print(f"goal burst >= 0.5 x floor: {verdict} ({b['rate']:.1f} vs {0.5 * base:.1f} bids/s)")
    if args.profile:
        print_profile(kept_stats, world.n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bids", type=int, default=200)
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--database", choices=("sqlite", "postgresql", "all"), default="sqlite",
                    help="the server's database; postgresql and all need EPROC_TEST_PG_URL "
                         "(scripts/with-postgres.sh)")
    ap.add_argument("--profile", action="store_true", help="the server under cProfile; prints its profile")
    ap.add_argument("--lock-submissions", action="store_true",
                    help="diagnostic: serialise submit_bid in the server process (one lock)")
    ap.add_argument("--workers", type=int, default=1,
                    help="diagnostic: N uvicorn worker processes (the app imported by name in each)")
    ap.add_argument("--spy", type=Path,
                    help="diagnostic: py-spy samples of the server during the burst only (raw, 200 Hz) to this file")
    ap.add_argument("--serve-wrapped", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--profile-stats", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_wrapped:
        serve_wrapped(args.port, args.profile_stats, args.lock_submissions, args.workers)
        return
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ["EPROC_TOKEN_PIN"] = PIN  # every station token of this process
    kinds = ["sqlite", "postgresql"] if args.database == "all" else [args.database]
    if "postgresql" in kinds and not os.environ.get("EPROC_TEST_PG_URL"):
        ap.error("--database postgresql needs EPROC_TEST_PG_URL (run under scripts/with-postgres.sh)")
    for kind in kinds:
        run(kind, args)


if __name__ == "__main__":
    main()
