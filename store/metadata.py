"""Every table the migrations manage: the engine's own and the outside-system stubs'."""
from __future__ import annotations

from sqlalchemy import MetaData


def all_metadata() -> list[MetaData]:
    import store.legacy_models  # noqa: F401  (registers the legacy-import tables on Base)
    from store.models import Base

    metas = [Base.metadata]
    try:
        from integrations.stubs.tables import StubBase
    except ImportError:  # the stubs package is optional in a trimmed deployment
        return metas
    metas.append(StubBase.metadata)
    return metas
