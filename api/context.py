"""What a route needs from its process: the dependency container the app was created with."""
from __future__ import annotations

from fastapi import Request

from services.deps import Deps


def get_deps(request: Request) -> Deps:
    """The container `api.app.create_app(deps)` stored on the app (use with `Depends(get_deps)`)."""
    deps: Deps = request.app.state.deps
    return deps
