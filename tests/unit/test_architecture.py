"""The layering of docs/ARCHITECTURE.md and "one home per rule" (issue 9), checked on the source text.

Imports point down only:
    domain < sealing, signing < store < integrations < services < tasks, flows < api < stations < pilot < eproc
`config` may be imported by every layer except `domain`, and imports only `domain` itself.
On top of the order, the explicit bans of issue 9: `flows/` and `tasks/` never import `store`,
`store/` never imports `integrations` or `signing`, `domain/` imports nothing first-party but itself.

Imports are read with `ast`, all of them: module level, inside functions, under `if TYPE_CHECKING:`,
relative ones, and `importlib.import_module("...")` / `__import__("...")` with a literal name.

The second check: every public top-level function or class of `domain/` is used by code that is
neither a test nor a benchmark (a `tests/`-only name is code production does not run).
"""
from __future__ import annotations

import ast
import io
import tokenize
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Layer rank: a package may import the packages of a strictly lower rank (plus the extras below).
RANK = {
    "domain": 0,
    "sealing": 1, "signing": 1,
    "store": 2,
    "integrations": 3,
    "services": 4,
    "render": 4,  # printable documents from signed XML (issue 16): reads domain and signing; pilot and eproc print
    "tasks": 5, "flows": 5,
    "api": 6,  # the HTTP API (issue 11): above services and flows, below the pilot that drives it and eproc
    "stations": 7,  # the stations' side of the API: the CLI's station commands and the rehearsal act through it
    "pilot": 8,
    "eproc": 9,
}
CONFIG = "config"
FIRST_PARTY = frozenset(RANK) | {CONFIG}
# Same-rank imports that the process needs: a flow runs tasks (never the other way round).
ALSO_ALLOWED = {("flows", "tasks")}
# The explicit bans of issue 9 ("Done when"), whatever the rank says.
FORBIDDEN = {
    "flows": {"store"},
    "tasks": {"store"},
    "services": {"pilot", "flows"},
    "store": {"integrations", "signing"},
}
# Code that is not production: references from here do not keep a domain name alive.
NOT_PRODUCTION = ("tests", "bench")
SKIP_DIRS = {"__pycache__", "node_modules", "out", "var"}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    target: str  # dotted module name, e.g. "store.uow"

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _python_files(top: Path) -> Iterator[Path]:
    for path in sorted(top.rglob("*.py")):
        rel = path.relative_to(ROOT).parts
        if any(part.startswith(".") or part in SKIP_DIRS or part.endswith(".egg-info") for part in rel[:-1]):
            continue
        yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(path: Path, level: int, module: str | None) -> str:
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def _imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(path, node.level, node.module) if node.level else (node.module or "")
            yield Import(path, node.lineno, base)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                yield Import(path, node.lineno, first.value)


def _layer_violations() -> list[str]:
    found = []
    for package in sorted(FIRST_PARTY):
        for path in _python_files(ROOT / package):
            for imp in _imports(path):
                target = imp.target.split(".")[0]
                if target not in FIRST_PARTY or target == package:
                    continue
                why = _why_forbidden(package, target)
                if why:
                    found.append(f"{imp.where}: imports {imp.target} ({why})")
    return sorted(set(found), key=_sort_key)


def _why_forbidden(package: str, target: str) -> str | None:
    if package == "domain":
        return "domain imports only the standard library, third-party packages and domain"
    if package == CONFIG:
        return None if target == "domain" else "config imports only domain"
    if target in FORBIDDEN.get(package, ()):
        return f"issue 9: {package}/ must not import {target}"
    if target == CONFIG:
        return None
    if RANK[target] < RANK[package] or (package, target) in ALSO_ALLOWED:
        return None
    return f"upward or sideways: {package} (layer {RANK[package]}) -> {target} (layer {RANK[target]})"


def _sort_key(line: str) -> tuple[str, int]:
    where = line.split(": ", 1)[0]
    file, _, number = where.rpartition(":")
    return file, int(number)


def test_imports_point_down_the_layers() -> None:
    violations = _layer_violations()
    if violations:
        pytest.fail(f"{len(violations)} import(s) break the layering of docs/ARCHITECTURE.md:\n  "
                    + "\n  ".join(violations), pytrace=False)


# -- every public domain function or class has a production caller -----------------------------

@dataclass(frozen=True)
class Definition:
    name: str
    path: Path
    first: int
    last: int

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.first}"


def _domain_definitions() -> list[Definition]:
    out = []
    for path in _python_files(ROOT / "domain"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and not node.name.startswith("_"):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                out.append(Definition(node.name, path, first, node.end_lineno or node.lineno))
    return out


def _name_uses() -> dict[str, list[tuple[Path, int]]]:
    """Every identifier token (not comments, not strings) of every .py file of the checkout."""
    uses: dict[str, list[tuple[Path, int]]] = defaultdict(list)
    for path in _python_files(ROOT):
        source = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME:
                uses[tok.string].append((path, tok.start[0]))
    return uses


def _is_production(path: Path) -> bool:
    return path.relative_to(ROOT).parts[0] not in NOT_PRODUCTION


def test_every_public_domain_name_has_a_production_caller() -> None:
    uses = _name_uses()
    unused = []
    for d in _domain_definitions():
        outside = [(p, n) for p, n in uses.get(d.name, []) if not (p == d.path and d.first <= n <= d.last)]
        if any(_is_production(p) for p, _ in outside):
            continue
        others = sorted({str(p.relative_to(ROOT)) for p, _ in outside})
        unused.append(f"{d.where}: {d.name} is used " + (f"only by {', '.join(others)}" if others else "nowhere"))
    if unused:
        pytest.fail(f"{len(unused)} public name(s) of domain/ have no caller outside tests/ and bench/ "
                    "(wire them into services or delete them):\n  " + "\n  ".join(unused), pytrace=False)
