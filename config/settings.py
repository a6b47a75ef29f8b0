"""Runtime settings: environment variables with the EPROC_ prefix (or a .env file).

This module is the only reader of `EPROC_*` variables; everything else asks `get_settings()`.
Policy (what the tender rules leave to configuration) is not here: it is the versioned TOML.
"""
from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_POLICY = Path(__file__).parent / "policy" / "default.toml"
PIN_ENV = "EPROC_TOKEN_PIN"
API_SECRET_FILE = "api-secret"  # under data_dir, mode 0600: the session-token key when EPROC_API_SECRET is unset


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
                                                          "database; http: the financial, project-control and "
                                                          "transparency services at the URLs below; none: no "
                                                          "outside systems")
    # The outside systems' services (`eproc stub serve ...`, issue 13 part 4), used when integrations=http.
    financial_url: str | None = Field(default=None, description="Financial-system service, e.g. http://127.0.0.1:8601")
    project_control_url: str | None = Field(default=None,
                                            description="Project-control service, e.g. http://127.0.0.1:8602")
    transparency_url: str | None = Field(default=None, description="Transparency-site service, e.g. http://127.0.0.1:8603")
    transactions_url: str | None = Field(
        default=None, description="The transactions system's API as the outside systems' services read it "
                                  "(`eproc stub serve --transactions-url` default), e.g. http://127.0.0.1:8400")
    decisions: str = Field(default="forms", description="forms (Prefect UI forms) or scripted:/path/scenario.toml")
    decision_timeout: int = Field(default=3600, ge=1, description="Seconds a paused run waits for an operator")
    decision_poll: float = Field(default=5.0, gt=0, le=60,
                                 description="Seconds between looks at the store while a run waits for members' "
                                             "releases and signatures made at their stations, and between looks "
                                             "for an operator's answer to a Prefect form (whole seconds there)")
    crash_at: str | None = Field(default=None, description="Tests only: `point#n` ends the process the n-th "
                                                           "time `point` is passed (services.faults)")
    # The transactions system's HTTP API (`eproc serve`, issue 11).
    api_host: str = Field(default="127.0.0.1", description="Address `eproc serve` binds (a proxy sits in front)")
    api_port: int = Field(default=8400, ge=1, le=65535, description="Port of `eproc serve`")
    api_secret: SecretStr | None = Field(
        default=None, min_length=32,
        description="HS256 key of session tokens, shared by every API process behind the proxy; empty: "
                    "generated once into data_dir/api-secret (mode 0600)")
    api_session_minutes: int = Field(default=15, ge=1, le=240, description="Lifetime of a session token")
    api_challenge_seconds: int = Field(default=120, ge=10, le=3600,
                                       description="How long a login challenge may be answered (single use)")
    api_max_body_bytes: int | None = Field(
        default=None, ge=1024, description="Largest request body; empty: the policy's [limits] max_bid_bytes")

    @field_validator("api_secret", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

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

    def session_secret(self) -> str:
        """The key session tokens are signed with: EPROC_API_SECRET, else the content of
        data_dir/api-secret, created on first use (48 random bytes as URL-safe text, mode 0600). The
        file appears whole or not at all (written aside, then hard-linked into place), so processes
        starting together agree on one key.

        Raises: OSError when data_dir cannot be written or the file holds less than 32 characters."""
        if self.api_secret is not None:
            return self.api_secret.get_secret_value()
        path = self.data_dir / API_SECRET_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            aside = path.with_name(f".{API_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48))
            try:
                os.link(aside, path)
            except FileExistsError:
                pass  # another process was first: its key counts
            finally:
                aside.unlink()
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < 32:
            raise OSError(f"{path}: the session key is shorter than 32 characters")
        return secret

    @property
    def persian(self) -> bool:
        return self.locale == "fa"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (cheap to call again); `get_settings.cache_clear()` rereads."""
    return Settings()
