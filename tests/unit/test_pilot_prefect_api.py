"""Issue 15 item 1: the rehearsal starts Prefect's server itself, as its first step, and points Prefect at
it, so the server comes up while the engine is imported and the world built (pilot/prefect_api.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pilot.prefect_api import configured_api_url, start_local_api

ROOT = Path(__file__).resolve().parents[2]


def test_a_configured_api_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "profiles.toml"))
    assert configured_api_url() is None  # no file: Prefect would start its temporary server
    (tmp_path / "profiles.toml").write_text(
        'active = "stack"\n[profiles.stack]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'
        '[profiles.ephemeral]\n', encoding="utf-8")
    assert configured_api_url() == "http://127.0.0.1:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert configured_api_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert configured_api_url() == "http://127.0.0.1:9/api"
    assert start_local_api() is None  # configured: nothing is started


@pytest.mark.parametrize("name,text", [("prefect.toml", "[api]\nurl = 'http://127.0.0.1:4200/api'\n"),
                                       (".env", "PREFECT_API_URL=http://127.0.0.1:4200/api\n"),
                                       ("pyproject.toml", "[tool.prefect.api]\nurl = 'http://127.0.0.1:4200/api'\n")])
def test_a_prefect_settings_file_in_the_working_directory_leaves_the_choice_to_prefect(
        name: str, text: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "none.toml"))
    monkeypatch.chdir(tmp_path)
    assert configured_api_url() is None
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert configured_api_url() == "configured" and start_local_api() is None


def test_nothing_is_started_once_prefect_has_read_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect  # noqa: F401 - the settings are read at import

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", "/nonexistent/profiles.toml")
    assert start_local_api() is None
    assert "PREFECT_API_URL" not in os.environ


def _child_env(tmp_path: Path) -> dict[str, str]:
    """A rehearsal's environment without a configured Prefect API, with a Prefect home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_PROFILES_PATH=str(tmp_path / "none.toml"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


CHILD = """
import json, os, sys
from pilot.prefect_api import start_local_api
api = start_local_api()
assert api is not None and os.environ["PREFECT_API_URL"] == api.url
api.wait_ready()
from prefect.settings import PREFECT_API_URL
import httpx
health = httpx.get(api.url + "/health").json()
api.stop()
print(json.dumps({"url": api.url, "seen": PREFECT_API_URL.value(), "health": health,
                  "server_imported": "prefect.server.api.server" in sys.modules,
                  "exit": api.process.returncode}))
"""


@pytest.mark.slow
def test_the_server_answers_prefect_uses_it_and_this_process_never_imports_the_server(tmp_path: Path) -> None:
    env = _child_env(tmp_path)
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, env=env, cwd=ROOT, timeout=180)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    found = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert found["url"].startswith("http://127.0.0.1:") and found["seen"] == found["url"]
    assert found["health"] is True
    assert found["server_imported"] is False  # the ~2 s import happens only in the server's process
    assert found["exit"] is not None  # stopped


KILLED = """
import os, sys, time
from pilot.prefect_api import start_local_api
api = start_local_api()
print(api.process.pid, flush=True)
api.wait_ready()
os.kill(os.getpid(), 9)  # the rehearsal killed: no finally, no atexit
"""


@pytest.mark.slow
def test_the_server_ends_when_the_rehearsal_is_killed(tmp_path: Path) -> None:
    import time

    env = _child_env(tmp_path)
    out = subprocess.run([sys.executable, "-c", KILLED], capture_output=True, env=env, cwd=ROOT, timeout=180)
    assert out.returncode == -9, out.stderr.decode()[-2000:]
    server = int(out.stdout.decode().split()[0])
    def running() -> bool:  # a zombie has ended
        try:
            return Path(f"/proc/{server}/stat").read_text().split()[2] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and running():
        time.sleep(0.1)
    assert not running()
