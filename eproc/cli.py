"""`eproc`: the command line of the electronic procurement engine (help in Persian and English)."""
from __future__ import annotations

import typer

from eproc.commands import audit, db, policy, registry

app = typer.Typer(
    name="eproc",
    help="سامانهٔ معاملات الکترونیکی شهرداری تهران — Tehran municipality electronic procurement engine.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(db.app, name="db")
app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(registry.app, name="registry")


def _optional(module: str, name: str) -> None:
    import importlib

    mod = importlib.import_module(f"eproc.commands.{module}")
    if hasattr(mod, "app"):
        app.add_typer(mod.app, name=name)
    else:
        mod.register(app)


for _module, _name in (("ca", "ca"), ("readiness", "readiness"), ("pilot", "pilot"), ("bid", "bid"),
                       ("contracts", "import"), ("reports", "report"), ("stack", "stack"), ("serve", "serve"),
                       ("pricelist", "pricelist"), ("tender", "tender"), ("minutes", "minutes"),
                       ("session", "session"), ("auction", "auction"), ("stubs", "stub"),
                       ("completeness", "completeness")):
    try:
        _optional(_module, _name)
    except ModuleNotFoundError as _exc:
        if _exc.name != f"eproc.commands.{_module}":
            raise

_optional("support", "support")  # issue 13 part 5 (R26)


def main() -> None:
    app()
