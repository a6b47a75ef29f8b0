"""The certificate registry of signing/ (CertificateRegistry protocol) kept in the store."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from signing.registry import CertificateRecord
from store.models import CertificateRow


def _record(row: CertificateRow) -> CertificateRecord:
    return CertificateRecord(serial=int(row.serial), national_id=row.national_id, token_label=row.token_label,
                             key_label=row.key_label, pem=row.pem, not_before=row.not_before,
                             not_after=row.not_after, revoked_at=row.revoked_at, revoke_reason=row.revoke_reason)


class SqlCertificateRegistry:
    """Each call is its own short transaction: the CA's writes must survive a later failure."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def save(self, cert_record: CertificateRecord) -> None:
        with self._sessions() as s, s.begin():
            s.merge(CertificateRow(serial=str(cert_record.serial), national_id=cert_record.national_id,
                                   token_label=cert_record.token_label, key_label=cert_record.key_label,
                                   pem=cert_record.pem, not_before=cert_record.not_before,
                                   not_after=cert_record.not_after, revoked_at=cert_record.revoked_at,
                                   revoke_reason=cert_record.revoke_reason))

    def mark_revoked(self, serial: int, revoked_at: datetime, reason: str) -> None:
        with self._sessions() as s, s.begin():
            row = s.get(CertificateRow, str(serial))
            if row is not None and row.revoked_at is None:
                row.revoked_at = revoked_at
                row.revoke_reason = reason

    def get(self, serial: int) -> CertificateRecord | None:
        with self._sessions() as s:
            row = s.get(CertificateRow, str(serial))
            return _record(row) if row else None

    def for_person(self, national_id: str) -> list[CertificateRecord]:
        with self._sessions() as s:
            rows = s.scalars(select(CertificateRow).where(CertificateRow.national_id == national_id)
                             .order_by(CertificateRow.not_before)).all()
            return [_record(r) for r in rows]

    def all(self) -> list[CertificateRecord]:
        with self._sessions() as s:
            return [_record(r) for r in s.scalars(select(CertificateRow)).all()]

    def revocations(self) -> list[tuple[int, datetime]]:
        with self._sessions() as s:
            rows = s.execute(select(CertificateRow.serial, CertificateRow.revoked_at)
                             .where(CertificateRow.revoked_at.is_not(None))).all()
            return [(int(serial), at) for serial, at in rows]
