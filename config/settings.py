"""Runtime settings: environment variables with the EPROC_ prefix (or a .env file)."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_POLICY = Path(__file__).parent / "policy" / "default.toml"


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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'eproc.db'}"

    @property
    def persian(self) -> bool:
        return self.locale == "fa"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
