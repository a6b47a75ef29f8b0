"""Every command runs through run_command: a DomainError becomes a clear Persian message, never a traceback."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from domain.reasons import DomainError, Reason
from eproc.output import error

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

T = TypeVar("T")
# What SQLite and PostgreSQL say when a table the code expects is not there yet.
_NOT_MIGRATED = ("no such table", "does not exist", "undefinedtable")


def run_command(fn: Callable[[], T], as_json: bool = False) -> T:
    """Run a command's body; refusals and store failures end in one Persian line and exit status 2."""
    try:
        return fn()
    except DomainError as exc:
        error(exc, as_json)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        error(DomainError(Reason.INVALID_INPUT, "لغو شد"), as_json)
        raise typer.Exit(130) from None
    except Exception as exc:
        # SQLAlchemy is imported by the commands that open a store, not by the CLI (a station's commands
        # never do): when it is not loaded, no store error can have been raised.
        sa = sys.modules.get("sqlalchemy.exc")
        if sa is None or not isinstance(exc, sa.SQLAlchemyError):
            raise
        if isinstance(exc, (sa.OperationalError, sa.ProgrammingError)):
            error(store_error(exc), as_json)
        else:
            error(DomainError(Reason.STORE_UNREACHABLE, type(exc).__name__), as_json)
        raise typer.Exit(2) from None


def store_error(exc: SQLAlchemyError) -> DomainError:
    """A database error as a refusal: a store that was never migrated says so and what to run."""
    text = str(getattr(exc, "orig", exc)).lower() + type(getattr(exc, "orig", exc)).__name__.lower()
    if any(marker in text for marker in _NOT_MIGRATED):
        return DomainError(Reason.STORE_UNREACHABLE, "جدول‌های پایگاه داده ساخته نشده‌اند؛ نخست «eproc db upgrade» را اجرا کنید")
    return DomainError(Reason.STORE_UNREACHABLE, type(exc).__name__)
