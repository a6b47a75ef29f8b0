"""The municipality's single announcement portal (R02)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class NoticeDocument:
    name: str
    sha256: str
    size_bytes: int
    content: bytes | None = None  # when given, the portal serves it for download


@dataclass(frozen=True)
class Notice:
    tender_id: str
    unit: str
    title: str
    text: str  # Persian; must state the submission and signature rules in force
    documents: tuple[NoticeDocument, ...]
    published_at: datetime
    version: int = 1


@dataclass(frozen=True)
class PublishedNotice:
    tender_id: str
    version: int
    unit: str
    title: str
    text: str
    published_at: datetime
    documents: tuple[NoticeDocument, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PublishedCheckpoint:
    """An audit checkpoint (the engine's signed head of its audit chain) as the portal serves it (R21)."""

    seq: int
    sha256: str
    xml: bytes
    published_at: datetime


class AnnouncementPortal(Protocol):
    def publish_notice(self, notice: Notice, required_phrases: Sequence[str]) -> PublishedNotice:
        ...

    def notices(self, tender_id: str) -> list[PublishedNotice]:
        ...

    def download(self, tender_id: str, name: str, version: int | None = None) -> bytes:
        ...

    def publish_checkpoint(self, seq: int, signed_xml: bytes) -> PublishedCheckpoint:
        """Publish the engine's signed checkpoint of audit entry `seq`; publishing it again is a no-op,
        a different document for a published `seq` is refused (INVALID_INPUT)."""
        ...

    def checkpoints(self) -> list[PublishedCheckpoint]:
        """Every published checkpoint, oldest head first."""
        ...
