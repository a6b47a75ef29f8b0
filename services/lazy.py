"""Lazy exports for a package's `__init__`: `from services.tender import announce` imports
`services.tender.announce` when the name is first asked for, not when the package is imported.

Why: importing `services.contract.requests` (the documents a station signs) ran `services/contract/__init__`,
which imported every step of the engine, the store and the outside systems' stubs: ~1 s for each station
command that needed one small module. Each package lists its exports once for the type checker (under
`TYPE_CHECKING`) and once for `lazy_exports`; tests/unit/test_lazy_packages.py holds the two together."""
from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping


def lazy_exports(package: str, homes: Mapping[str, tuple[str, ...]]) -> None:
    """Make the already-imported module `package` serve the names in `homes` (submodule, relative name
    -> the names it exports) on first use. A name the package does not export raises AttributeError,
    as for any module.

    Where an export has its submodule's name (services.tender's `announce`), the export wins over the
    submodule once that is loaded, as it did when the package imported its steps at once: the import
    system binds a loaded submodule to the package attribute of its name, which would otherwise hide
    the function behind the module.

    Tests: patch a step where it is defined (`services.tender.submission.submit_bid`) only after the
    package served it once, or patch the package's attribute: the first use copies whatever the
    submodule holds at that moment onto the package.

    Raises: nothing here; AttributeError, later, for a name the package does not export."""
    where = {name: f"{package}.{module}" for module, names in homes.items() for name in names}

    class LazyPackage(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            home = where.get(name)
            if home is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            value = getattr(importlib.import_module(home), name)
            types.ModuleType.__setattr__(self, name, value)  # asked once per process
            return value

        def __dir__(self) -> list[str]:  # every export, served yet or not (inspect.getmembers, dir())
            return sorted(set(vars(self)) | set(where))

        def __reduce__(self) -> tuple[object, tuple[str]]:  # pickled by name, as a plain module is
            return importlib.import_module, (package,)

        def __setattr__(self, name: str, value: object) -> None:
            if isinstance(value, types.ModuleType) and where.get(name) == value.__name__ == f"{package}.{name}":
                value = getattr(value, name)
            types.ModuleType.__setattr__(self, name, value)

    sys.modules[package].__class__ = LazyPackage
