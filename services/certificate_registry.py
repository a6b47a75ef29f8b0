"""The certificate registry of signing/ (its CertificateRegistry protocol) kept in the store, through
the store's certificate repository."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import sessionmaker

from signing.registry import CertificateRecord
from store.models import CertificateRow
from store.uow import UnitOfWork


def _record(row: CertificateRow) -> CertificateRecord:
    return CertificateRecord(serial=int(row.serial), national_id=row.national_id, token_label=row.token_label,
                             key_label=row.key_label, pem=row.pem, not_before=row.not_before,
                             not_after=row.not_after, revoked_at=row.revoked_at, revoke_reason=row.revoke_reason)


class SqlCertificateRegistry:
    """Each call is its own short transaction: the CA's writes must survive a later failure."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def save(self, cert_record: CertificateRecord) -> None:
        """Insert or replace the certificate's row."""
        with UnitOfWork(self._sessions) as uow:
            uow.certificates.save(CertificateRow(
                serial=str(cert_record.serial), national_id=cert_record.national_id,
                token_label=cert_record.token_label, key_label=cert_record.key_label, pem=cert_record.pem,
                not_before=cert_record.not_before, not_after=cert_record.not_after,
                revoked_at=cert_record.revoked_at, revoke_reason=cert_record.revoke_reason))
            uow.commit()

    def mark_revoked(self, serial: int, revoked_at: datetime, reason: str) -> None:
        """Record a revocation once (an unknown serial is ignored: the CA knows its own)."""
        with UnitOfWork(self._sessions) as uow:
            if uow.certificates.get(serial) is not None:
                uow.certificates.mark_revoked(serial, revoked_at, reason)
                uow.commit()

    def get(self, serial: int) -> CertificateRecord | None:
        with UnitOfWork(self._sessions) as uow:
            row = uow.certificates.get(serial)
            return _record(row) if row else None

    def for_person(self, national_id: str) -> list[CertificateRecord]:
        with UnitOfWork(self._sessions) as uow:
            return [_record(r) for r in uow.certificates.for_person(national_id)]

    def all(self) -> list[CertificateRecord]:
        with UnitOfWork(self._sessions) as uow:
            return [_record(r) for r in uow.certificates.all()]

    def revocations(self) -> list[tuple[int, datetime]]:
        with UnitOfWork(self._sessions) as uow:
            return uow.certificates.revocations()
