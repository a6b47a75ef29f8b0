"""Background processes tracked by pid files, so `eproc down` stops exactly what `eproc up` started.

Each process leads its own session (process group): stopping it signals the group, which reaches
the server's and the worker's own children. A pid file also records the process start time, so a
pid the kernel has since reused for another program is never signalled."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel lists them) listening on TCP `port`, from /proc/net/tcp and
    tcp6: how the stack's checks see that a server binds to loopback only."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(name).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.rsplit(":", 1)
            if state == "0A" and int(p, 16) == port:
                out.append(addr)
    return out


def start_time(pid: int) -> str | None:
    """Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie is gone for our purposes
        return None
    return fields[19]


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    started: str | None
    group: bool  # signal the whole process group

    def alive(self) -> bool:
        return self.started is not None and start_time(self.pid) == self.started


class PidDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def file(self, name: str) -> Path:
        return self.path / f"{name}.pid"

    def write(self, name: str, pid: int, group: bool) -> PidRecord:
        rec = PidRecord(name, pid, start_time(pid), group)
        self.file(name).write_text(json.dumps({"pid": pid, "started": rec.started, "group": group}))
        return rec

    def read(self, name: str) -> PidRecord | None:
        try:
            data = json.loads(self.file(name).read_text())
        except (OSError, ValueError):
            return None
        return PidRecord(name, int(data["pid"]), data.get("started"), bool(data.get("group")))

    def records(self) -> list[PidRecord]:
        out = [self.read(p.stem) for p in sorted(self.path.glob("*.pid"))]
        return [r for r in out if r is not None]

    def remove(self, name: str) -> None:
        self.file(name).unlink(missing_ok=True)


def spawn(pids: PidDir, name: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> PidRecord:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return pids.write(name, proc.pid, group=True)


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def descendants(pid: int) -> list[int]:
    """Every living descendant of `pid` (a worker's flow-run processes among them: stopping a process
    stops what it started, wherever it is)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = parent_of(int(entry.name))
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def stop(rec: PidRecord, sig: int = signal.SIGTERM, timeout: float = 20.0, tree: bool = True) -> bool:
    """Signal the process (its group when it leads one) and its descendants in other sessions,
    wait, then SIGKILL whatever is left; True when it was running."""
    if not rec.alive():
        return False
    kids = [PidRecord(f"{rec.name}-child", k, start_time(k), False) for k in descendants(rec.pid)] if tree else []
    _signal(rec, sig)
    for kid in kids:
        if kid.alive():
            _signal(kid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not rec.alive():
            break
        _reap(rec.pid)
        time.sleep(0.1)
    if rec.alive():
        _signal(rec, signal.SIGKILL)
        for _ in range(50):
            _reap(rec.pid)
            if not rec.alive():
                break
            time.sleep(0.1)
    for kid in kids:
        if kid.alive():
            _signal(kid, signal.SIGKILL)
    if rec.group:
        try:  # the leader is gone; stragglers of its group follow it
            os.killpg(rec.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return True


def _signal(rec: PidRecord, sig: int) -> None:
    try:
        if rec.group:
            os.killpg(rec.pid, sig)
        else:
            os.kill(rec.pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    """Collect our own exited child, if it is one, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
