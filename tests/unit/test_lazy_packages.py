"""services.tender and services.contract export their steps lazily (services.lazy): what the type
checker sees (the TYPE_CHECKING imports), what `__getattr__` serves (_HOMES) and `__all__` must agree,
and importing one small module of the package must not import the others."""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["services.tender", "services.contract"]


def _type_checking_imports(package: str) -> dict[str, tuple[str, ...]]:
    tree = ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    found: dict[str, tuple[str, ...]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package + ".")
        found[node.module[len(package) + 1:]] = tuple(a.name for a in node.names)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_the_lazy_map_the_type_checker_and_all_agree(package):
    module = importlib.import_module(package)
    assert _type_checking_imports(package) == module._HOMES
    served = {name for names in module._HOMES.values() for name in names}
    eager = {name for name in module.__all__ if name in vars(module)}  # e.g. FINAL, imported at once
    assert set(module.__all__) == served | eager
    for home, names in module._HOMES.items():
        for name in names:  # each served name is the object its home module defines
            assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{home}"), name)
    with pytest.raises(AttributeError):
        module.no_such_step  # noqa: B018
    assert set(module.__all__) <= set(dir(module))  # inspect.getmembers (bench/bench_tender.py) sees them all


def test_a_lazy_package_pickles_by_name():
    import cloudpickle

    import services.tender

    assert cloudpickle.loads(cloudpickle.dumps(services.tender)) is services.tender


def test_an_export_named_as_its_submodule_is_the_export_even_after_the_submodule_is_loaded():
    """services.tender exports the function `announce` from its submodule `announce`: loading the submodule
    first (as `from services.tender.announce import notice_text` does) must not put the module in its place."""
    code = ("import services.tender.announce, services.tender as svc, inspect; "
            "print(inspect.isfunction(svc.announce), svc.announce.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.split() == ["True", "services.tender.announce"], out.stdout + out.stderr


def test_a_station_module_does_not_import_the_engine():
    """`eproc contract ...` at a station needs the request documents, not the engine's steps, store or stubs."""
    code = ("import sys; import stations.contracts; "
            "print(sorted(m for m in ('services.tender', 'services.contract.award', 'store.models', "
            "'integrations.stubs') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
