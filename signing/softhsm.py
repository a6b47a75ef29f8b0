"""SoftHSM2 software tokens for development, tests and pilots.

SoftHSM2 reads its configuration (SOFTHSM2_CONF) and scans its token directory at C_Initialize.
The process's own directory: construct `SoftHsm(base_dir)` once per process (before or after the
library is loaded: `signing.token` switches to it when an unrouted label is opened); code that may run next to other users
of SoftHSM in one process (a pytest session spanning several test packages) should call
`SoftHsm.for_process(base_dir)`, which returns the instance already in use, if any. Tokens initialised afterwards are picked up because
`signing.token` re-initialises the library when a label is not found and no session
is open (see `signing.token._Module.find_token`).

People's own directories side by side in one process (a rehearsal): `SoftHsm.person(dir)` per
person; `signing.token` switches the loaded library between them (`route_token`).
`SoftHsm.person_copy(dir, source_token_dir, source_label, label)` makes such a directory from a copy of
an initialised token (a rehearsal's cached template, pilot.world): far cheaper than C_InitToken and an
RSA key generation; the holder then changes the copied PIN to their own (`Token.change_pin`).

Never use SoftHSM for real signatures: its keys are files under `base_dir`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from domain.reasons import DomainError, Reason

SOFTHSM_UTIL = "softhsm2-util"
LABEL_FIELD = 32  # CK_TOKEN_INFO.label: 32 bytes padded with spaces, as SoftHSM2 stores it in token.object


_ACTIVE: SoftHsm | None = None


class SoftHsm:
    """A private SoftHSM2 token directory: the process's own (`SoftHsm(dir)`, selected through
    SOFTHSM2_CONF) or one person's store beside others (`SoftHsm.person(dir)`)."""

    @classmethod
    def for_process(cls, base_dir: str | os.PathLike[str]) -> SoftHsm:
        """The SoftHsm this process already uses, or a new one in `base_dir`."""
        return _ACTIVE if _ACTIVE is not None else cls(base_dir)

    @classmethod
    def person(cls, base_dir: str | os.PathLike[str], labels: Iterable[str] | None = None) -> SoftHsm:
        """One person's token directory in `base_dir`, as on their own station, usable next to other
        people's in this process: its tokens are routed to it (signing.token.route_token), so opening
        one switches the loaded library to this store. Tokens already there are routed at once: the
        given `labels`, else those softhsm2-util lists (a process of its own)."""
        hsm = cls(base_dir, select=False)
        if labels is not None:
            for label in labels:
                hsm._route(label)
        elif any(hsm.token_dir.iterdir()):
            for label in hsm.token_labels():
                hsm._route(label)
        return hsm

    @classmethod
    def person_copy(cls, base_dir: str | os.PathLike[str], source_token_dir: str | os.PathLike[str],
                    source_label: str, label: str) -> SoftHsm:
        """One person's token directory in `base_dir` (as `person`) holding a copy of the SoftHSM2 token
        directory `source_token_dir` (file backend: `tokens/<uuid>/`), relabelled from `source_label` to
        `label` and routed. The copy keeps the source's PINs, keys and certificates: change the user PIN
        at once (`signing.token.Token.change_pin`). Directories are created 0700, files 0600.

        Raises: INVALID_INPUT when `base_dir` already holds a token, when a label is longer than 32
        bytes or when the source's token.object does not carry `source_label` exactly once."""
        src = Path(source_token_dir)
        old, new = (_label_field(x) for x in (source_label, label))
        data = (src / "token.object").read_bytes()
        if data.count(old) != 1:
            raise DomainError(Reason.INVALID_INPUT, f"توکن الگو برچسب «{source_label}» را ندارد")
        hsm = cls(base_dir, select=False)
        os.chmod(hsm.base_dir, 0o700)
        os.chmod(hsm.token_dir, 0o700)
        if any(hsm.token_dir.iterdir()):
            raise DomainError(Reason.INVALID_INPUT, f"در {hsm.token_dir} از قبل توکن هست")
        dst = hsm.token_dir / src.name
        staging = hsm.base_dir / f".{src.name}.copy"  # outside the token directory SoftHSM scans
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        for f in src.iterdir():
            if f.is_file():
                body = data.replace(old, new) if f.name == "token.object" else f.read_bytes()
                fd = os.open(staging / f.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
        os.rename(staging, dst)  # SoftHSM never sees a half-written token
        hsm._route(label)
        return hsm

    @property
    def known(self) -> set[str]:
        """The labels of the tokens this store holds (routed ones; for the process's own store, all)."""
        if not self.routed:
            return set(self.token_labels())
        from signing.token import routed_labels

        return routed_labels(self.conf_path)

    def __init__(self, base_dir: str | os.PathLike[str], *, select: bool = True) -> None:
        global _ACTIVE
        from signing import token as token_module

        self.routed = not select
        self.base_dir = Path(base_dir)
        self.token_dir = self.base_dir / "tokens"
        self.token_dir.mkdir(parents=True, exist_ok=True)
        self.conf_path = self.base_dir / "softhsm2.conf"
        self.conf_path.write_text(
            f"directories.tokendir = {self.token_dir}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            # Removable slots let a deleted token read as "not present" rather than as an error.
            "slots.removable = true\n"
            "slots.mechanisms = ALL\n"
            "library.reset_on_fork = false\n",
            encoding="utf-8",
        )
        if select:
            os.environ["SOFTHSM2_CONF"] = str(self.conf_path)
            # Loaded already (people's own stores came first): unrouted labels now live here.
            token_module.set_home_store(self.conf_path)
            _ACTIVE = self

    def _route(self, label: str) -> None:
        from signing.token import route_token

        route_token(label, self.conf_path)

    def _env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf_path)}

    def _run(self, *args: str) -> str:
        if shutil.which(SOFTHSM_UTIL) is None:
            raise DomainError(Reason.TOKEN_NOT_FOUND, "ابزار softhsm2-util نصب نیست")
        proc = subprocess.run([SOFTHSM_UTIL, *args], env=self._env(), capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0:
            # The PINs are arguments, never echoed back: only the tool's own message is kept.
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"softhsm2-util: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def init_token(self, label: str, pin: str, so_pin: str) -> None:
        """Initialise the first free slot as a token called `label`."""
        if label in self.token_labels():
            raise DomainError(Reason.INVALID_INPUT, f"توکنی با برچسب «{label}» از قبل وجود دارد")
        self._run("--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin)
        if self.routed:
            self._route(label)

    def delete_token(self, label: str) -> None:
        """Erase the token: to the PKCS#11 library it looks like a token pulled out of the reader."""
        self._run("--delete-token", "--token", label)

    def token_labels(self) -> list[str]:
        labels = []
        for line in self._run("--show-slots").splitlines():
            line = line.strip()
            if line.startswith("Label:"):
                value = line.partition(":")[2].strip()
                if value:
                    labels.append(value)
        return labels


def _label_field(label: str) -> bytes:
    """The token label as SoftHSM2's token.object stores it: length 32, then the space-padded bytes."""
    raw = label.encode("utf-8")
    if len(raw) > LABEL_FIELD:
        raise DomainError(Reason.INVALID_INPUT, f"برچسب توکن بیش از {LABEL_FIELD} بایت است: «{label}»")
    return LABEL_FIELD.to_bytes(8, "big") + raw.ljust(LABEL_FIELD, b" ")
