"""Every table the migrations manage: the engine's own and the outside-system stubs'."""
from __future__ import annotations

from sqlalchemy import MetaData


def all_metadata() -> list[MetaData]:
    import store.legacy_models  # noqa: F401  (registers the legacy-import tables on Base)
    from store.models import Base
    from store.stub_tables import StubBase

    return [Base.metadata, StubBase.metadata]
