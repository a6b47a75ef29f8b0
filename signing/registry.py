"""Where issued certificates are recorded: the CA writes, verification and readiness read.

`CertificateRegistry` is the protocol; the in-memory and JSON-file versions serve tests,
development and pilots, and store/ provides the SQL-backed one with the same methods.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography import x509

from domain.reasons import DomainError, Reason


@dataclass(frozen=True)
class CertificateRecord:
    serial: int
    national_id: str
    token_label: str
    key_label: str
    pem: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.pem.encode("ascii"))

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["serial"] = str(self.serial)  # 159-bit serials do not fit JSON numbers safely
        for key in ("not_before", "not_after", "revoked_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CertificateRecord:
        def when(value: object) -> datetime | None:
            return datetime.fromisoformat(str(value)) if value is not None else None

        return cls(serial=int(str(data["serial"])), national_id=str(data["national_id"]),
                   token_label=str(data["token_label"]), key_label=str(data["key_label"]),
                   pem=str(data["pem"]), not_before=when(data["not_before"]),  # type: ignore[arg-type]
                   not_after=when(data["not_after"]),  # type: ignore[arg-type]
                   revoked_at=when(data.get("revoked_at")),
                   revoke_reason=data.get("revoke_reason"))  # type: ignore[arg-type]


class CertificateRegistry(Protocol):
    def save(self, cert_record: CertificateRecord) -> None: ...

    def mark_revoked(self, serial: int, revoked_at: datetime, reason: str) -> None: ...

    def get(self, serial: int) -> CertificateRecord | None: ...

    def for_person(self, national_id: str) -> list[CertificateRecord]: ...

    def revocations(self) -> list[tuple[int, datetime]]: ...

    def publish_crl(self, crl_der: bytes) -> None:
        """Keep a CRL the CA has just signed where verifiers read it (`revocation_lists`)."""
        ...

    def revocation_lists(self, serial: int) -> list[bytes]:
        """The CA-signed CRLs (DER) kept as listing `serial`: empty when none lists it. Verifiers
        check each (signing.verify.verified_crl); the registry itself vouches for nothing."""
        ...


def _unknown(serial: int) -> DomainError:
    return DomainError(Reason.INVALID_INPUT, f"گواهی با شمارهٔ سریال {serial:x} ثبت نشده است")


class InMemoryCertificateRegistry:
    def __init__(self) -> None:
        self._records: dict[int, CertificateRecord] = {}
        self._crls: dict[int, list[bytes]] = {}
        self._lock = threading.Lock()

    def save(self, cert_record: CertificateRecord) -> None:
        with self._lock:
            self._records[cert_record.serial] = cert_record

    def mark_revoked(self, serial: int, revoked_at: datetime, reason: str) -> None:
        with self._lock:
            record = self._records.get(serial)
            if record is None:
                raise _unknown(serial)
            if record.revoked_at is None:  # the first revocation time stands
                self._records[serial] = replace(record, revoked_at=revoked_at, revoke_reason=reason)

    def get(self, serial: int) -> CertificateRecord | None:
        return self._records.get(serial)

    def for_person(self, national_id: str) -> list[CertificateRecord]:
        return sorted((r for r in self._records.values() if r.national_id == national_id),
                      key=lambda r: r.not_before)

    def revocations(self) -> list[tuple[int, datetime]]:
        return sorted(((r.serial, r.revoked_at) for r in self._records.values() if r.revoked_at is not None),
                      key=lambda item: item[1])

    def all(self) -> list[CertificateRecord]:
        return sorted(self._records.values(), key=lambda r: r.not_before)

    def publish_crl(self, crl_der: bytes) -> None:
        """Keep the first CRL that lists each serial (in memory; the JSON-file registry's CA also
        writes crl.pem next to it)."""
        crl = x509.load_der_x509_crl(crl_der)
        with self._lock:
            for entry in crl:
                self._crls.setdefault(entry.serial_number, [crl_der])

    def revocation_lists(self, serial: int) -> list[bytes]:
        return list(self._crls.get(serial, []))


class JsonFileCertificateRegistry(InMemoryCertificateRegistry):
    """The in-memory registry, rewritten atomically to one JSON file after every change."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.exists():
            for item in json.loads(self.path.read_text(encoding="utf-8")):
                record = CertificateRecord.from_dict(item)
                self._records[record.serial] = record

    def _flush(self) -> None:
        payload = json.dumps([r.to_dict() for r in self.all()], ensure_ascii=False, indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".certificates-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a registry

    def save(self, cert_record: CertificateRecord) -> None:
        super().save(cert_record)
        self._flush()

    def mark_revoked(self, serial: int, revoked_at: datetime, reason: str) -> None:
        super().mark_revoked(serial, revoked_at, reason)
        self._flush()
