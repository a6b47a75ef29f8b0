"""The certificate registry of signing/ (its CertificateRegistry protocol) kept in the store, through
the store's certificate and audit repositories.

Issued certificates live in the `certificates` table, whose `revoked_at` column is the CA's own
bookkeeping (what the next CRL will list) and is never read to judge a signature. What verifiers
read is the CA-signed CRL: each CRL the CA signs is recorded in the append-only audit log, once per
serial it newly lists (`certificate.revocation_listed`, entity id = the serial in hex, payload = the
CRL's DER in base64), and `revocation_lists(serial)` returns the first and the last such record.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from signing.registry import CertificateRecord
from store.models import AuditEntry, CertificateRow
from store.uow import UnitOfWork

CRL_LISTED = "certificate.revocation_listed"
CA_ACTOR = "ca"


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

    def publish_crl(self, crl_der: bytes) -> None:
        """Record the CA-signed CRL `crl_der` in the audit log for every serial it lists that no
        earlier record lists, at the CRL's thisUpdate; one transaction (R05).

        Raises: ValueError for bytes that are not a CRL with a CRL number (the CA never hands those)."""
        crl = x509.load_der_x509_crl(crl_der)
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        payload = {"crl_number": number, "crl_der": base64.b64encode(crl_der).decode("ascii")}
        with UnitOfWork(self._sessions) as uow:
            for entry in crl:
                key = f"{entry.serial_number:x}"
                if uow.audit.exists(CRL_LISTED, key):
                    continue  # a revocation once listed stays listed; later CRLs repeat it
                uow.record(at=crl.last_update_utc, actor=CA_ACTOR, action=CRL_LISTED, entity="certificate",
                           entity_id=key, payload=payload | {"revoked_at": entry.revocation_date_utc.isoformat()})
            uow.commit()

    def revocation_lists(self, serial: int) -> list[bytes]:
        """The CRLs (DER) recorded as listing `serial`: the first and the last record, so that one
        appended later cannot hide the first and a rewritten first cannot hide behind a later one.
        Unreadable records come back as empty bytes, which the verifier refuses.

        Raises: nothing."""
        with UnitOfWork(self._sessions) as uow:
            return revocation_records(uow, serial)


def revocation_records(uow: UnitOfWork, serial: int) -> list[bytes]:
    """`SqlCertificateRegistry.revocation_lists` inside the caller's unit of work: the CRLs (DER)
    recorded as listing `serial`, the first and the last record (one indexed read, ix_audit_action,
    of every record of that serial in chain order). Unreadable records come back as empty bytes,
    which the verifier refuses.

    Raises: nothing."""
    rows = uow.session.execute(
        select(AuditEntry.seq, AuditEntry.payload_json)
        .where(AuditEntry.action == CRL_LISTED, AuditEntry.entity_id == f"{serial:x}")
        .order_by(AuditEntry.seq)).all()
    entries = [rows[0], rows[-1]] if len(rows) > 1 else list(rows)
    return [_crl_der(payload_json) for _seq, payload_json in entries]


def _crl_der(payload_json: str) -> bytes:
    try:
        return base64.b64decode(json.loads(payload_json)["crl_der"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return b""
