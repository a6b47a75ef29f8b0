"""Every command runs through run_command: a DomainError becomes a clear Persian message, never a traceback."""
from __future__ import annotations

from typing import Callable, TypeVar

import typer

from domain.reasons import DomainError, Reason
from eproc.output import error

T = TypeVar("T")


def run_command(fn: Callable[[], T], as_json: bool = False) -> T:
    try:
        return fn()
    except DomainError as exc:
        error(exc, as_json)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        error(DomainError(Reason.INVALID_INPUT, "لغو شد"), as_json)
        raise typer.Exit(130) from None
