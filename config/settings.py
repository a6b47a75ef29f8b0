"""Runtime settings: environment variables with the EPROC_ prefix (or a .env file).

This module is the only reader of `EPROC_*` variables; everything else asks `get_settings()`.
Policy (what the tender rules leave to configuration) is not here: it is the versioned TOML.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_POLICY = Path(__file__).parent / "policy" / "default.toml"
PIN_ENV = "EPROC_TOKEN_PIN"


def pin_env_name(label: str) -> str:
    """The per-token PIN variable of a token label: EPROC_TOKEN_PIN_<LABEL>, non-alphanumerics as `_`."""
    return f"{PIN_ENV}_" + re.sub(r"[^A-Z0-9]", "_", label.upper())


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "eproc"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPROC_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir,
                           description="Where the SQLite file, tokens and CA of the embedded defaults live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite file under data_dir when empty")
    pkcs11_module: str = Field(default="/usr/lib/softhsm/libsofthsm2.so",
                               description="PKCS#11 module: SoftHSM2 in development, the token vendor's in production")
    prefect_api_url: str | None = Field(default=None, description="Prefect server API; local mode when empty")
    locale: str = Field(default="fa", pattern="^(fa|en)$")
    policy_file: Path = Field(default=BUNDLED_POLICY)
    system_national_id: str | None = Field(
        default=None, description="The engine's own signer; empty: whoever holds the transactions_system role")
    integrations: str = Field(default="stub", description="stub: the rule-enforcing stubs on the application "
                                                          "database; none: no outside systems")
    decisions: str = Field(default="forms", description="forms (Prefect UI forms) or scripted:/path/scenario.toml")
    decision_timeout: int = Field(default=3600, ge=1, description="Seconds a paused run waits for an operator")
    crash_at: str | None = Field(default=None, description="Tests only: `point#n` ends the process the n-th "
                                                           "time `point` is passed (services.faults)")

    def token_pin(self, label: str) -> str | None:
        """The PIN of a token from EPROC_TOKEN_PIN_<LABEL>, else EPROC_TOKEN_PIN, else None (prompt).

        Read from the environment at each call, never kept: PINs are set and cleared while a process runs."""
        for name in (pin_env_name(label), PIN_ENV):
            value = os.environ.get(name)
            if value:
                return value
        return None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'eproc.db'}"

    @property
    def persian(self) -> bool:
        return self.locale == "fa"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (cheap to call again); `get_settings.cache_clear()` rereads."""
    return Settings()
