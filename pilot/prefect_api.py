"""Prefect's local API for one rehearsal, started as its own process before anything else is imported.

Without a Prefect server (`PREFECT_API_URL` unset in the environment and in the active profile), Prefect
starts a temporary server at the first flow: it imports its whole server package in the rehearsal's
process (about 2 s) only to start the same server as a subprocess, which imports it again (about 4 s of
the other core) while the first flow waits. A rehearsal is known to need that server from its first
line, so `start_local_api` starts Prefect's own server app (the one `SubprocessASGIServer` runs:
uvicorn, `prefect.server.api.server:create_app`, UI off, on 127.0.0.1; pilot/prefect_server.py) at once and points this process at
it; it comes up on the second core while the CLI imports the engine and builds the simulated world
(issue 15 item 1). Nothing of Prefect is imported here: the address must be in the environment before
Prefect reads its settings.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

READY_TIMEOUT_S = 60.0  # Prefect's own default for its temporary server (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)


@dataclass
class LocalPrefectApi:
    """A Prefect API server process on 127.0.0.1:`port`; `url` is its API address (`…/api`)."""

    port: int
    process: subprocess.Popen[bytes]
    errors: IO[bytes]  # the server's stderr (a temporary file: a pipe nobody reads could fill and block it)
    stopped: bool = field(default=False)
    _warm_thread: threading.Thread | None = field(default=None, repr=False)
    _failure: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def warm_up(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Begin waiting for the server in a background thread, and once it answers, make the read-only
        calls a flow's first steps make (the API's version, the default result storage, run filters):
        the server's first answers are slow (~0.3-0.5 s of lazy setup), and they are then made while the
        rehearsal builds its world, not when its first flow starts. `wait_ready` waits for this thread."""
        if self._warm_thread is None:
            self._warm_thread = threading.Thread(target=self._warm, args=(timeout_s,), name="prefect-api-warm-up",
                                                 daemon=True)
            self._warm_thread.start()

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Block until the server answers `/health` (polled every 50 ms; after `warm_up`, until its thread
        ends). Raises RuntimeError with the server's output when it exits or does not answer within
        `timeout_s` seconds (the server is then stopped)."""
        if self._warm_thread is None:
            failure = self._await_health(timeout_s)
        else:
            self._warm_thread.join(timeout_s)
            failure = self._failure if not self._warm_thread.is_alive() else \
                f"Prefect's local server did not answer within {timeout_s:.0f} s"
        if failure is not None:
            output = self._output()
            self.stop()
            raise RuntimeError(f"{failure}: {output}")

    def _warm(self, timeout_s: float) -> None:
        import httpx

        try:
            self._failure = self._await_health(timeout_s)
            if self._failure is None:
                try:
                    with httpx.Client(base_url=self.url, timeout=10.0) as client:
                        client.get("/admin/version")
                        client.get("/admin/storage")
                        for runs in ("flow_runs", "task_runs", "artifacts"):
                            client.post(f"/{runs}/filter", json={"limit": 1})
                except httpx.HTTPError:  # only a warm-up: the flows' own calls report what fails
                    pass
        except Exception as exc:  # noqa: BLE001  (reported by wait_ready, in the caller's thread)
            self._failure = f"Prefect's local server could not be reached: {exc!r}"

    def _await_health(self, timeout_s: float) -> str | None:
        """None once the server answers /health, else why not (it exited, or the time ran out)."""
        import httpx

        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return f"Prefect's local server exited with status {self.process.returncode}"
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return None
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        return f"Prefect's local server did not answer within {timeout_s:.0f} s"

    def stop(self, wait: bool = True) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s); idempotent. `wait=False`: send SIGTERM and
        return at once (the rehearsal's process is about to end; the server finishes its own graceful
        shutdown, ~0.4 s, and init reaps it)."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            if not wait:
                self.errors.close()
                return
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.errors.close()

    def _output(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")[-2000:]


def _ends_with(parent: int) -> Callable[[], None]:
    """What the server's process runs before the server: the kernel sends it SIGTERM when the thread
    that started it ends (Linux prctl PR_SET_PDEATHSIG; the caller is the rehearsal's main thread), so no
    server is left behind however the rehearsal ends, killed too; if the rehearsal already ended before
    that, the server does not start. Elsewhere, stop() ends it."""
    def run_in_child() -> None:
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:
            os._exit(1)
    return run_in_child


# Prefect 3 also reads its settings from these files in the working directory.
SETTINGS_FILES = ("prefect.toml", ".env")


def configured_api_url() -> str | None:
    """The Prefect API address this process would use: `PREFECT_API_URL` from the environment, else
    from the active profile of `PREFECT_PROFILES_PATH` (default `$PREFECT_HOME/profiles.toml`), read
    without importing Prefect. "configured" when the working directory has a Prefect settings file
    (`prefect.toml`, `.env`, a `[tool.prefect]` table in `pyproject.toml`): Prefect reads it, so this
    module leaves the choice to Prefect. None when Prefect would start its temporary server."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    cwd = Path.cwd()
    if any((cwd / name).is_file() for name in SETTINGS_FILES):
        return "configured"
    try:
        if "tool" in (pyproject := tomllib.loads((cwd / "pyproject.toml").read_text(encoding="utf-8"))) \
                and "prefect" in pyproject["tool"]:
            return "configured"
    except (OSError, tomllib.TOMLDecodeError):
        pass
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = (profiles.get("profiles") or {}).get(active, {}).get("PREFECT_API_URL")
    return str(value) if value else None


def start_local_api() -> LocalPrefectApi | None:
    """Start Prefect's server on a free loopback port and set `PREFECT_API_URL` for this process (and
    the processes it starts) to it. Call it from the main thread (the server ends with the thread that
    started it) before other threads exist. None, and nothing started, when a Prefect API is configured or when
    Prefect is already imported (its settings are read; Prefect then starts its temporary server
    itself). The caller calls `wait_ready()` before the first flow and `stop()` at the end."""
    if "prefect" in sys.modules or configured_api_url():
        return None
    import importlib.util

    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        return None
    errors = tempfile.TemporaryFile()
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    # The listening socket is made here and handed to the server (pilot/prefect_server.py): the port is ours from
    # the start, so two rehearsals starting at once cannot pick the same one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(128)
        port, fd = listening.getsockname()[1], listening.fileno()
        process = subprocess.Popen(
            # -P: the script's directory (pilot/) is not put on the server's import path
            [sys.executable, "-P", str(Path(__file__).with_name("prefect_server.py")), "--fd", str(fd)],
            env=env, stdout=subprocess.DEVNULL, stderr=errors, pass_fds=(fd,), preexec_fn=_ends_with(os.getpid()))
    api = LocalPrefectApi(port, process, errors)
    os.environ["PREFECT_API_URL"] = api.url
    return api


def start_for_rehearsal(json_out: bool) -> LocalPrefectApi | None:
    """What `eproc pilot` does first: Prefect's quiet settings as defaults in this process's environment
    (no analytics; with `json_out`, Prefect's logs at WARNING so that stdout holds the report only), then
    `start_local_api()` and its `warm_up()`. None when nothing was started (as start_local_api)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if json_out:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    api = start_local_api()
    if api is not None:
        api.warm_up()  # its first, slow answers are made while the rehearsal builds its world
    return api
