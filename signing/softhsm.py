"""SoftHSM2 software tokens for development, tests and pilots.

SoftHSM2 reads its configuration (SOFTHSM2_CONF) only once, when the PKCS#11 library is
first loaded into the process, and it scans its token directory only at C_Initialize.
So: construct `SoftHsm(base_dir)` BEFORE the first `signing.token` call that loads the
module in this process, and only one per process: code that may run next to other users
of SoftHSM in one process (a pytest session spanning several test packages) should call
`SoftHsm.for_process(base_dir)`, which returns the instance already in use, if any. Tokens initialised afterwards are picked up because
`signing.token` re-initialises the library when a label is not found and no session
is open (see `signing.token._Module.find_token`).

Never use SoftHSM for real signatures: its keys are files under `base_dir`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from domain.reasons import DomainError, Reason

SOFTHSM_UTIL = "softhsm2-util"


_ACTIVE: SoftHsm | None = None


class SoftHsm:
    """A private SoftHSM2 token directory, selected for this process through SOFTHSM2_CONF."""

    @classmethod
    def for_process(cls, base_dir: str | os.PathLike[str]) -> SoftHsm:
        """The SoftHsm this process already uses, or a new one in `base_dir`."""
        return _ACTIVE if _ACTIVE is not None else cls(base_dir)

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        global _ACTIVE
        from signing import token as token_module

        if token_module.softhsm_loaded():
            # The loaded library keeps reading the configuration it started with.
            raise DomainError(Reason.INVALID_INPUT,
                              "کتابخانهٔ SoftHSM پیش‌تر با پیکربندی دیگری بارگذاری شده است")
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
        os.environ["SOFTHSM2_CONF"] = str(self.conf_path)
        _ACTIVE = self

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
