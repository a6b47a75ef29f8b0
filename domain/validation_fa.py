"""Validation problems in Persian: one sentence per problem of a validated model (pydantic's error
dicts: `type`, `loc`, `msg`, `ctx`), for every entry point that validates people's files
(scenario files, envelope content). Pure data and string work: no pydantic import here."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Our own validators raise PydanticCustomError("eproc_invalid", <Persian sentence>).
OWN = "eproc_invalid"
_KINDS_FA = {
    "missing": "الزامی است",
    "extra_forbidden": "کلید ناشناخته است",
    "string_type": "باید متن باشد",
    "bool_type": "باید true یا false باشد",
    "bool_parsing": "باید true یا false باشد",
    "list_type": "باید فهرست باشد",
    "dict_type": "باید جدول (شیء) باشد",
    "model_type": "باید جدول (شیء) باشد",
    "model_attributes_type": "باید جدول (شیء) باشد",
    "int_type": "باید عدد صحیح باشد",
    "int_parsing": "باید عدد صحیح باشد",
    "int_from_float": "باید عدد صحیح باشد",
    "decimal_type": "باید عدد باشد",
    "decimal_parsing": "باید عدد باشد",
}
_BOUNDS_FA = {"greater_than": "باید بیشتر از {gt} باشد", "greater_than_equal": "باید دست‌کم {ge} باشد",
              "less_than": "باید کمتر از {lt} باشد", "less_than_equal": "نباید بیشتر از {le} باشد",
              "too_short": "دست‌کم {min_length} مورد لازم است", "literal_error": "باید یکی از {expected} باشد"}


def _problem_fa(err: Mapping[str, Any]) -> str:
    """One problem as a Persian phrase (without its location). Raises: nothing."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == OWN:
        return str(err.get("msg", ""))
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in _BOUNDS_FA:
        return _BOUNDS_FA[kind].format(**{k: str(v) for k, v in ctx.items()})
    return _KINDS_FA.get(kind, "نامعتبر است")


def problems_fa(errors: Iterable[Mapping[str, Any]], root: str = "<root>") -> str:
    """Every problem as `location: phrase`, joined with the Persian semicolon. Raises: nothing."""
    return "؛ ".join(f"{'.'.join(str(p) for p in e.get('loc', ())) or root}: {_problem_fa(e)}" for e in errors)
