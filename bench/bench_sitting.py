"""The opening sitting with each commission member at their own station (issue 12 "Done when",
benchmark), against a floor measured in the same run.

Setup (not timed): the default pilot scenario's tender with one more part holder (an alternate of the
security representative, so that five members hold a part of every bid's key: chair, finance,
technical, security and the alternate; the legal member holds none), announced in-process; N bids of
about M MB (envelope B carries the attachment), each bid's key dealt by its bidder to the seats of the
notice and the envelopes sealed to it (sealing.envelopes.seal_dealt), the manifest signed on a token,
submitted (services.tender.submit_bid). The engine is this process: its store, its own token, and the
transactions API (api.app, the world's container) served by uvicorn on a free 127.0.0.1 port.
Each of the five members is a process of its own (this script with --member), with only their own
SoftHSM token directory (SOFTHSM2_CONF) and their own PIN (EPROC_TOKEN_PIN) in its environment,
started and logged in (`Station.login`, challenge signed on the token) before the sitting.

Timed, the sitting ("ours"): from `services.tender.open_sitting` (the sitting's key pair made on the
engine's token, the SessionKey signed), through the five members releasing at once
(`stations.commission.join` at each station: fetch the parts over HTTP, check the sitting's key with
the CA certificate, unwrap the member's part of every bid on the member's token, encrypt them to the
sitting's key, send the signed PartsRelease, verified at receipt), the chair's attendance, to the
recorded session (`services.tender.opening_session`: releases unwrapped on the engine's token, every
bid's key rebuilt, the bidder's signature and the receipt checked, A/B/C decrypted, evaluated, the
session recorded and its key destroyed).

The floor, same run: the members' token operations in parallel (each member process unwraps the very
parts it releases, RSA-OAEP on its SoftHSM token, all five at once: the wall time from the first
start to the last end) + raw AES-GCM decryption of the same bytes (3 envelopes per bid) + the
signature checks (one RSA-2048 verification per manifest and per receipt, cryptography). Goal: the
sitting <= 2 x the floor.

Also, from the setup: the bidder's seal time per MB (seal_dealt: the bid's key made, split, each part
wrapped to the seats' certificates, the envelopes sealed) vs raw AES-GCM encryption per MB.

    .venv/bin/python bench/bench_sitting.py [--bids 200] [--size-mb 1] [--profile]
    .venv/bin/python bench/bench_sitting.py --bids 1000 --size-mb 0.1

--experiment (a diagnostic): a change outside bench/ tried in this process (apply_experiment).
--profile: the engine's side of the sitting (this process, every thread: API requests and the
session) under cProfile; prints where its CPU time goes (the figures then carry the profiler's
overhead) and keeps the statistics in $TMPDIR/bench-sitting.prof.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
SESSION = "opening"
ALTERNATE = {"id": "m6", "role": "security", "name": "جانشین نمایندهٔ حراست", "alternate_for": "m5"}


# --- a member's station (its own process) -------------------------------------------------------------------

def member_main(args: argparse.Namespace) -> None:
    """One member's station: own token directory and PIN from the environment, the engine over HTTP.
    Reads commands on stdin, answers one line each on stdout:
      floor FILE -> "floor START END COUNT CPU": unwrap each wrapped part in FILE (JSON list) on the token
      join       -> "joined START END PARTS FETCH UNWRAP SEND CPU": stations.commission.join for the sitting,
                    the seconds it spent in GET requests, in unwrapping on the token, in sending the release,
                    and the CPU seconds of this process during the join (the token's work included)
    START/END are time.monotonic() (CLOCK_MONOTONIC: one clock for every process of the machine)."""
    from datetime import datetime

    from domain.clock import SimulatedClock
    from signing.keytransport import WrappedSecret, unwrap_secret
    from signing.token import Token
    from stations.client import Station
    from stations.commission import join

    pin = os.environ["EPROC_TOKEN_PIN"]
    # The engine's clock is the rehearsal's (simulated); the station signs at the same time.
    clock = SimulatedClock(datetime.fromisoformat(args.at))
    station = Station(args.server, args.token, pin=pin, clock=clock).login(args.role, args.unit)
    ca_pem = station.ca_pem()
    spent = {"fetch": 0.0, "unwrap": 0.0, "send": 0.0}

    def timed(fn, what):  # where a join's time goes, as this station sees it
        def wrapper(*a, **k):
            t = time.monotonic()
            try:
                return fn(*a, **k)
            finally:
                spent[what] += time.monotonic() - t
        return wrapper

    station.get = timed(station.get, "fetch")  # type: ignore[method-assign]
    station.post_signed = timed(station.post_signed, "send")  # type: ignore[method-assign]
    # Signer is a frozen dataclass: its unwrap_many timed on the instance through object.__setattr__.
    object.__setattr__(station.signer, "unwrap_many", timed(station.signer.unwrap_many, "unwrap"))
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, *rest = line.split()
        if cmd == "floor":
            wrapped = [WrappedSecret.from_dict(w) for w in json.loads(Path(rest[0]).read_text())]
            start, cpu = time.monotonic(), time.process_time()
            with Token(args.token, pin=pin) as tok:
                for w in wrapped:
                    unwrap_secret(tok, "sign", w)
            end, cpu = time.monotonic(), time.process_time() - cpu
            print(f"floor {start} {end} {len(wrapped)} {cpu}", flush=True)
        elif cmd == "join":
            start, cpu = time.monotonic(), time.process_time()
            joined = join(station, args.tender, SESSION, ca_pem)
            end, cpu = time.monotonic(), time.process_time() - cpu
            print(f"joined {start} {end} {joined.parts} {spent['fetch']} {spent['unwrap']} {spent['send']} {cpu}",
                  flush=True)
        elif cmd == "quit":
            break
    station.close()


class Member:
    """A member's station process, driven over its stdin/stdout."""

    def __init__(self, world, member, server: str, tender_id: str, at: str, base_env: dict[str, str]) -> None:
        from pilot.world import simulated_pin, token_label

        label = token_label(world, member.national_id)
        conf = world.base_dir / "tokens" / label / "softhsm2.conf"  # signing.softhsm.SoftHsm.person's layout
        assert conf.exists(), conf
        self.id, self.label = member.id, label
        env = {**base_env, "SOFTHSM2_CONF": str(conf), "EPROC_TOKEN_PIN": simulated_pin(label)}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--member", "--server", server, "--token", label,
             "--role", member.role, "--unit", world.unit, "--tender", tender_id, "--at", at],
            env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self) -> list[str]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"member {self.id} ended: {self.proc.stderr.read() if self.proc.stderr else ''}")
        return line.split()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


def _all(members: list[Member], command: str) -> list[list[str]]:
    """`command` sent to every member at once, then every answer."""
    for m in members:
        m.send(command)
    return [m.answer() for m in members]


# --- the engine's API in this process -----------------------------------------------------------------------

class Server:
    """uvicorn serving `app` in a thread of this process on a free 127.0.0.1 port."""

    def __init__(self, app) -> None:
        import uvicorn

        from eproc.stack.procs import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    server_header=False))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


# --- profiling every thread of this process -----------------------------------------------------------------

class ThreadProfiles:
    """cProfile (CPU time) in every thread started after `install()` and, between `start()` and `stop()`,
    in this one; `stats()` merges them."""

    def __init__(self) -> None:
        import cProfile

        self.lock = threading.Lock()
        self.profiles: list = []
        self.main = cProfile.Profile(time.thread_time)

    def install(self) -> None:
        import cProfile

        def start_in_thread(frame, event, arg):  # the first event of a new thread: its own profiler
            sys.setprofile(None)
            p = cProfile.Profile(time.thread_time)
            with self.lock:
                self.profiles.append(p)
            p.enable()

        threading.setprofile(start_in_thread)

    def start(self) -> None:
        self.main.enable()

    def stop(self) -> None:
        self.main.disable()
        threading.setprofile(None)

    def stats(self):
        import pstats

        stats = pstats.Stats(self.main)
        with self.lock:
            for p in self.profiles:
                try:
                    stats.add(p)
                except TypeError:  # a thread that never ran anything profiled
                    pass
        return stats


def print_profile(stats, lines: int = 30) -> None:
    rows = []
    for (file, line, fn), (_, _, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        rows.append((ct, tt, f"{short}:{line}({fn})"))
    skip = ("threading.py", "asyncio/", "<built-in method select", "concurrent/futures", "anyio/", "<string>")
    print("\nthe engine's side under cProfile (CPU seconds, every thread of this process):")
    print(f"  {'cumulative s':>12} {'own s':>8}  function")
    shown = 0
    for ct, tt, name in sorted(rows, reverse=True):
        if any(s in name for s in skip):
            continue
        print(f"  {ct:12.2f} {tt:8.2f}  {name[-96:]}")
        shown += 1
        if shown >= lines:
            break
    print(f"\n  {'own s':>8}  function (by own time)")
    for _, tt, name in sorted(rows, key=lambda row: row[1], reverse=True)[:lines]:
        print(f"  {tt:8.2f}  {name[-96:]}")


def _memory() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


# --- the experiment (--experiment): a change outside bench/, tried here without editing it ----------------

def apply_experiment() -> None:
    """Diagnostic, in this process only: the CRL records of a certificate read once per serial instead
    of at every signature check (services.certificate_registry.SqlCertificateRegistry.revocation_lists;
    a real fix keys the cache on the newest CRL record, this one is only valid within one sitting).
    (The other change this experiment once tried, a member's parts read from each bid's header
    instead of the whole blob, is now how services.tender.release.parts_for reads them.)"""
    from services.certificate_registry import SqlCertificateRegistry

    original = SqlCertificateRegistry.revocation_lists
    cache: dict[int, list[bytes]] = {}  # one world in this process: the serial alone is the key

    def revocation_lists(self, serial: int) -> list[bytes]:
        if serial not in cache:
            cache[serial] = original(self, serial)
        return cache[serial]

    SqlCertificateRegistry.revocation_lists = revocation_lists  # type: ignore[method-assign]


# --- the benchmark ---------------------------------------------------------------------------------------------

def run(args: argparse.Namespace, base: Path) -> dict:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from benchkit import TenderWithBids
    from pilot.world import simulated_national_id
    from sealing.envelopes import SealedBid
    from services import tender as svc
    from signing.token import Token

    n, size_mb = args.bids, args.size_mb
    if args.experiment:
        apply_experiment()
    t0 = time.perf_counter()
    alternate = {**ALTERNATE, "national_id": simulated_national_id("bench-sitting:security-alternate")}
    t = TenderWithBids(base, n, size_mb, shared_tokens=False, extra_commission=[alternate], name="bench-sitting")
    world, scenario, tid, deps = t.world, t.scenario, t.tender_id, t.world.deps
    setup_bids = time.perf_counter() - t0
    world.clock.set(scenario.tender.opening_at)
    view = svc.load(deps, tid)
    holders = set(view.seats.holders)
    seated = [m for m in scenario.commission if m.id in holders]

    # Each member's parts of every bid, as the bidders wrapped them: what the floor's unwraps take.
    with deps.uow() as uow:
        plans = [SealedBid.from_bytes(row.sealed).key_plan for row in uow.bids.current(tid)]
    assert len(plans) == n and all(p is not None for p in plans)
    parts_dir = base / "parts"
    parts_dir.mkdir()
    for mem in seated:
        (parts_dir / f"{mem.id}.json").write_text(json.dumps([p.share_for(mem.id).wrapped for p in plans]))
    del plans

    profiles = ThreadProfiles() if args.profile else None
    if profiles is not None:
        profiles.install()  # before the server's threads start: each gets its profiler
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("EPROC_", "SOFTHSM2_CONF", "PREFECT_API"))}
    base_env["PYTHONPATH"] = str(ROOT)
    members: list[Member] = []
    out: dict = {"n": n, "size_mb": size_mb, "setup_bids": setup_bids, "seal_s": t.seal_s,
                 "raw_seal_s": t.raw_seal_s, "submit_s": t.submit_s, "plain_mb": t.sealed_bytes / 1024 / 1024,
                 "members": [m.id for m in seated], "experiment": args.experiment}
    with Server(world.stations.app) as server:
        try:
            t1 = time.perf_counter()
            members = [Member(world, mem, server.url, tid, world.clock.now().isoformat(), base_env) for mem in seated]
            for m in members:
                if m.answer() != ["ready"]:
                    raise RuntimeError(f"member {m.id} did not start")
            out["setup_members"] = time.perf_counter() - t1

            # The floor, 1: each member unwraps its parts on its own token, the five at once.
            for m in members:
                m.send(f"floor {parts_dir / f'{m.id}.json'}")
            spans = [m.answer() for m in members]
            assert all(a[0] == "floor" and int(a[3]) == n for a in spans), spans
            out["floor_members"] = max(float(a[2]) for a in spans) - min(float(a[1]) for a in spans)
            out["floor_member_each"] = [float(a[2]) - float(a[1]) for a in spans]
            out["floor_member_cpu"] = [float(a[4]) for a in spans]

            # The sitting.
            mem0 = _memory()
            if profiles is not None:
                profiles.start()
            t2, c2 = time.perf_counter(), time.process_time()  # process_time: the engine's CPU, all threads
            svc.open_sitting(deps, tid, SESSION)
            t3, c3 = time.perf_counter(), time.process_time()
            for m in members:
                m.send("join")
            joined = [m.answer() for m in members]
            t4, c4 = time.perf_counter(), time.process_time()
            assert all(a[0] == "joined" and int(a[3]) == n for a in joined), joined
            human = deps.human()
            everyone = {mm.id: mm.name for mm in view.members}
            present = svc.accept_attendance(deps, view, SESSION, human.attendance(tid, SESSION, everyone,
                                                                                  world.clock.now()))
            outcome = svc.opening_session(deps, tid, present)
            t5, c5 = time.perf_counter(), time.process_time()
            if profiles is not None:
                profiles.stop()
            mem1 = _memory()
        finally:
            for m in members:
                m.stop()
    assert outcome.evaluation is not None and outcome.evaluation.award.winner, outcome
    opened = sum(1 for e in outcome.evaluation.bids.values() for o in (e.a, e.b, e.c)
                 if o is not None and o.status.value in ("accepted", "rejected"))
    if opened != 3 * n:
        raise RuntimeError(f"{opened} envelopes opened of {3 * n}")
    out.update(sitting=t5 - t2, open_sitting=t3 - t2, releases=t4 - t3, opening=t5 - t4,
               join_each=[float(a[2]) - float(a[1]) for a in joined], opened=opened,
               join_parts=[[float(x) for x in a[4:7]] for a in joined], join_cpu=[float(a[7]) for a in joined],
               cpu_open_sitting=c3 - c2, cpu_releases=c4 - c3, cpu_opening=c5 - c4,
               rss0=mem0["VmRSS"], rss1=mem1["VmRSS"], hwm0=mem0["VmHWM"], hwm1=mem1["VmHWM"])

    # The floor, 2 and 3: raw AES-GCM decryption of the same bytes; one RSA-2048 verification per
    # manifest and per receipt.
    keys = [AESGCM(AESGCM.generate_key(bit_length=256)) for _ in range(3)]
    nonce = os.urandom(12)
    aes_s = 0.0
    for sizes in t.plain_sizes:  # one bid at a time: memory stays small for any N
        cts = [keys[j].encrypt(nonce, os.urandom(size), None) for j, size in enumerate(sizes)]
        s0 = time.perf_counter()
        for j, ct in enumerate(cts):
            keys[j].decrypt(nonce, ct, None)
        aes_s += time.perf_counter() - s0
    public = t.cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)  # tokens hold RSA-2048 keys
    message = b"<SignedInfo>" + os.urandom(700) + b"</SignedInfo>"
    with Token(t.signer.token_label, pin=t.signer.pin) as tok:
        sig = tok.sign("sign", message)
    s0 = time.perf_counter()
    for _ in range(2 * n):
        public.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    out.update(floor_aes=aes_s, floor_verify=time.perf_counter() - s0)
    out["floor"] = out["floor_members"] + out["floor_aes"] + out["floor_verify"]
    if profiles is not None:
        stats = profiles.stats()
        kept = Path(tempfile.gettempdir()) / "bench-sitting.prof"
        stats.dump_stats(str(kept))
        out["profile"] = stats
    return out


def report(r: dict) -> None:
    n, mb = r["n"], r["size_mb"]
    print(f"load average (1, 5 min) at the end: {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}; "
          f"{os.cpu_count()} CPUs")
    print(f"setup: {n} bids dealt, sealed, signed and submitted {r['setup_bids']:.1f} s (submissions "
          f"{r['submit_s']:.1f} s); {len(r['members'])} member processes started and logged in "
          f"{r['setup_members']:.1f} s ({', '.join(r['members'])})")
    print(f"{'benchmark':64} {'ours':>9} {'floor':>9} {'ratio':>7}")
    print(f"{f'opening sitting, {n} bids x {mb:g} MB, 5 members at their stations (s)':64} {r['sitting']:9.2f} "
          f"{r['floor']:9.2f} {r['sitting'] / r['floor']:7.2f}")
    print(f"{'  open_sitting: key pair on the engine token, SessionKey signed (s)':64} {r['open_sitting']:9.2f}")
    print(f"{'  members release at once (fetch, unwrap on token, encrypt, send) (s)':64} {r['releases']:9.2f} "
          f"{r['floor_members']:9.2f} {r['releases'] / r['floor_members']:7.2f}")
    print(f"{'    each member: join / its unwraps alone (s)':64} "
          f"{' '.join(f'{x:.2f}' for x in r['join_each'])}  /  {' '.join(f'{x:.2f}' for x in r['floor_member_each'])}")
    print(f"{'    each member: GET sitting+parts / unwrap / send release (s)':64} "
          f"{'  '.join('/'.join(f'{x:.2f}' for x in p) for p in r['join_parts'])}")
    print(f"{'    each member: CPU s of its process, join / its unwraps alone':64} "
          f"{' '.join(f'{x:.2f}' for x in r['join_cpu'])}  /  {' '.join(f'{x:.2f}' for x in r['floor_member_cpu'])}")
    print(f"{'  attendance, keys rebuilt, A/B/C opened, evaluated, recorded (s)':64} {r['opening']:9.2f} "
          f"{r['floor_aes'] + r['floor_verify']:9.2f} {r['opening'] / (r['floor_aes'] + r['floor_verify']):7.2f}")
    print(f"{'    floor: raw AES-GCM decrypt / 2 RSA-2048 verifies per bid (s)':64} {r['floor_aes']:9.3f} "
          f"{r['floor_verify']:9.3f}")
    print(f"{'  engine CPU s (all threads): open_sitting / releases / opening':64} "
          f"{r['cpu_open_sitting']:.2f} / {r['cpu_releases']:.2f} / {r['cpu_opening']:.2f}")
    print(f"{'  engine process RSS before -> after the sitting (MiB)':64} {r['rss0']:9.0f} {r['rss1']:9.0f}")
    print(f"{'  engine process peak RSS (VmHWM) before -> after (MiB)':64} {r['hwm0']:9.0f} {r['hwm1']:9.0f}")
    per_mb, raw_per_mb = r["seal_s"] / r["plain_mb"], r["raw_seal_s"] / r["plain_mb"]
    print(f"{'seal on the bidder side, seal_dealt incl. dealing (ms per MB)':64} {per_mb * 1000:9.2f} "
          f"{raw_per_mb * 1000:9.2f} {per_mb / raw_per_mb:7.2f}")
    print(f"{'  (per bid: seal_dealt ms, of ' + format(r['plain_mb'] / n, '.2f') + ' MB plaintext)':64} "
          f"{r['seal_s'] / n * 1000:9.2f} {r['raw_seal_s'] / n * 1000:9.2f}")
    if r.get("experiment"):
        print("EXPERIMENT (--experiment): CRLs read once per serial")
    goal = r["sitting"] <= 2 * r["floor"]
    print(f"goal sitting <= 2 x floor: {'met' if goal else 'MISSED'} ({r['sitting']:.2f} s vs {2 * r['floor']:.2f} s)")
    if "profile" in r:
        print_profile(r["profile"])
        print(f"\nstatistics kept in {Path(tempfile.gettempdir()) / 'bench-sitting.prof'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bids", type=int, default=200)
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--profile", action="store_true", help="the engine's side under cProfile; prints its profile")
    ap.add_argument("--experiment", action="store_true",
                    help="diagnostic: CRLs read once per serial (apply_experiment)")
    ap.add_argument("--member", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--server", "--token", "--role", "--unit", "--tender", "--at"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.member:
        member_main(args)
        return
    if args.bids < 1 or args.size_mb <= 0:
        ap.error("--bids and --size-mb must be positive")
    with tempfile.TemporaryDirectory(prefix="bench-sitting-") as d:
        result = run(args, Path(d))
    report(result)


if __name__ == "__main__":
    main()
