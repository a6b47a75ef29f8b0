"""The transparency website's publisher (R21, R24, R25)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

PublishStatus = Literal["published", "skipped"]


@dataclass(frozen=True)
class PublishResult:
    status: PublishStatus
    contract_code: str
    ocid: str | None = None
    release_id: str | None = None
    already_published: bool = False
    reason: str | None = None  # why it was skipped, in Persian

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "contract_code": self.contract_code, "ocid": self.ocid,
                "release_id": self.release_id, "already_published": self.already_published,
                "reason": self.reason}


class TransparencyPublisher(Protocol):
    def publish(self, contract_data: dict[str, Any]) -> PublishResult:
        ...

    def releases(self) -> Iterator[dict[str, Any]]:
        ...

    def export_package(self, path: str | Path, releases: Iterable[dict[str, Any]] | None = None,
                       validate: bool = True) -> int:
        ...

    def publish_contractor_lists(self, lists: dict[str, Any]) -> dict[str, Any]:
        ...

    def publish_project_figures(self, figures: list[dict[str, Any]]) -> dict[str, Any]:
        ...
