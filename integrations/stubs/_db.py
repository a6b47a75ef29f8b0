"""Session plumbing shared by the stubs."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Rows are turned into frozen dataclasses before the session closes; no lazy loads after.
    return sessionmaker(engine, expire_on_commit=False)


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict, set, bytes)):
        return len(value) == 0
    return False


def canonical_json(value: Any) -> str:
    """Stable text for hashing and storage: sorted keys, no whitespace, Persian kept readable."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()
