"""The municipal certification authority, for development and pilots.

The CA key lives in software: `ca_dir/ca-key.pem`, mode 0600. That is acceptable for a
pilot CA only; production certificates come from the national CA, or from a municipal CA
whose key sits on its own token (the same `Token.sign` path used for people's keys).
People's keys are generated ON their tokens; the CA only ever sees public keys.

Certificates identify a person (serialNumber = national ID, CN = name). Roles are NOT in
certificates: people change posts far more often than certificates expire, so the role a
signer held is checked at verification time against the role registry.

Files in `ca_dir`: ca-key.pem, ca-cert.pem, ca.json (name, CRL number), crl.pem, and
certificates.json when the default JSON registry is used.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from domain.clock import Clock
from domain.identity import validate_national_id
from domain.persian import normalize
from domain.reasons import DomainError, Reason
from signing.registry import CertificateRecord, CertificateRegistry, JsonFileCertificateRegistry
from signing.token import Token

KEY_FILE = "ca-key.pem"
CERT_FILE = "ca-cert.pem"
META_FILE = "ca.json"
CRL_FILE = "crl.pem"
REGISTRY_FILE = "certificates.json"
CRL_VALID_DAYS = 7

REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    flag.value: flag for flag in x509.ReasonFlags if flag not in (x509.ReasonFlags.remove_from_crl,)}


def _seconds(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان باید منطقهٔ زمانی داشته باشد")
    return when.replace(microsecond=0)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)  # umask cannot widen it, but make the mode explicit


def _common_name(text: str) -> str:
    """CN is limited to 64 bytes of UTF-8 (two per Persian letter): cut on a character
    boundary. Identity rests on the national ID (serialNumber), not on the name."""
    raw = text.encode("utf-8")[:64]
    return raw.decode("utf-8", errors="ignore").strip()


def _person_name(national_id: str, full_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, national_id),
                      x509.NameAttribute(NameOID.COMMON_NAME, _common_name(full_name))])


class MunicipalCA:
    def __init__(self, ca_dir: Path, key: rsa.RSAPrivateKey, cert: x509.Certificate,
                 registry: CertificateRegistry) -> None:
        self.ca_dir = ca_dir
        self._key = key
        self.certificate = cert
        self.registry = registry

    # -- creation ------------------------------------------------------------
    @classmethod
    def init(cls, ca_dir: str | os.PathLike[str], name: str, clock: Clock, *, valid_days: int = 3650,
             key_size: int = 3072, registry: CertificateRegistry | None = None) -> MunicipalCA:
        root = Path(ca_dir)
        root.mkdir(parents=True, exist_ok=True)
        if (root / KEY_FILE).exists():
            raise DomainError(Reason.INVALID_INPUT, f"در {root} از قبل مرجع صدور گواهی ساخته شده است")
        now = _seconds(clock.now())
        key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, normalize(name)),
                             x509.NameAttribute(NameOID.COMMON_NAME, _common_name(normalize(name)))])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + timedelta(days=valid_days))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True, crl_sign=True,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        _write_private(root / KEY_FILE, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (root / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (root / META_FILE).write_text(json.dumps({"name": normalize(name), "crl_number": 0},
                                                 ensure_ascii=False), encoding="utf-8")
        return cls(root, key, cert, registry if registry is not None
                   else JsonFileCertificateRegistry(root / REGISTRY_FILE))

    @classmethod
    def load(cls, ca_dir: str | os.PathLike[str],
             registry: CertificateRegistry | None = None) -> MunicipalCA:
        root = Path(ca_dir)
        try:
            key = serialization.load_pem_private_key((root / KEY_FILE).read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate((root / CERT_FILE).read_bytes())
        except FileNotFoundError:
            raise DomainError(Reason.INVALID_INPUT, f"مرجع صدور گواهی در {root} پیدا نشد") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DomainError(Reason.INVALID_INPUT, "کلید مرجع صدور گواهی RSA نیست")
        return cls(root, key, cert, registry if registry is not None
                   else JsonFileCertificateRegistry(root / REGISTRY_FILE))

    @classmethod
    def copy(cls, source_dir: str | os.PathLike[str], ca_dir: str | os.PathLike[str],
             registry: CertificateRegistry) -> MunicipalCA:
        """A new CA directory `ca_dir` holding the key, certificate and metadata of the CA in
        `source_dir` (a rehearsal's cached template, pilot.world), with `registry`; no CRL and no
        certificate records are copied (the registry is the caller's). The key file stays 0600.

        Raises: INVALID_INPUT when `ca_dir` already holds a CA or `source_dir` holds none."""
        src, root = Path(source_dir), Path(ca_dir)
        root.mkdir(parents=True, exist_ok=True)
        if (root / KEY_FILE).exists():
            raise DomainError(Reason.INVALID_INPUT, f"در {root} از قبل مرجع صدور گواهی ساخته شده است")
        try:
            key, cert, meta = ((src / name).read_bytes() for name in (KEY_FILE, CERT_FILE, META_FILE))
        except FileNotFoundError:
            raise DomainError(Reason.INVALID_INPUT, f"مرجع صدور گواهی در {src} پیدا نشد") from None
        (root / CERT_FILE).write_bytes(cert)
        (root / META_FILE).write_bytes(meta)
        _write_private(root / KEY_FILE, key)  # last: its presence means the CA is complete
        return cls.load(root, registry)

    def adopt(self, national_id: str, token: Token, key_label: str, cert: x509.Certificate) -> CertificateRecord:
        """Register `cert`, already on the open `token` beside its key `key_label` (a token copied from
        a rehearsal's template, or an enrolment cut short before its record was saved).

        Raises: INVALID_INPUT when this CA did not issue `cert`, when it names another national ID or
        when its public key is not the token's key `key_label`."""
        nid = validate_national_id(national_id)
        try:
            if cert.issuer != self.certificate.subject:
                raise ValueError("issuer")
            cert.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            raise DomainError(Reason.INVALID_INPUT, "گواهی روی توکن را این مرجع صادر نکرده است") from None
        serials = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        if not serials or serials[0].value != nid:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی روی توکن به نام {nid} نیست")
        on_token = token.public_key(key_label).public_numbers()
        if cast(rsa.RSAPublicKey, cert.public_key()).public_numbers() != on_token:
            raise DomainError(Reason.INVALID_INPUT, "کلید روی توکن با گواهی یکی نیست")
        return self._record(cert, nid, token, key_label, store=False)

    def ca_certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def ca_cert_path(self) -> Path:
        return self.ca_dir / CERT_FILE

    @property
    def crl_path(self) -> Path:
        return self.ca_dir / CRL_FILE

    # -- issuing -------------------------------------------------------------
    def _issue(self, subject: x509.Name, public_key: rsa.RSAPublicKey, now: datetime,
               valid_days: int) -> x509.Certificate:
        if valid_days <= 0:
            raise DomainError(Reason.INVALID_INPUT, "مدت اعتبار گواهی باید مثبت باشد")
        not_after = min(now + timedelta(days=valid_days), self.certificate.not_valid_after_utc)
        return (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(self.certificate.subject)
                .public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(not_after)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                             key_encipherment=True, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=False, crl_sign=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._key.public_key()), critical=False)
                .sign(self._key, hashes.SHA256()))

    def _record(self, cert: x509.Certificate, national_id: str, token: Token,
                key_label: str, *, store: bool = True) -> CertificateRecord:
        record = CertificateRecord(
            serial=cert.serial_number, national_id=national_id, token_label=token.label,
            key_label=key_label, pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc)
        if store:
            token.store_certificate(key_label, cert.public_bytes(serialization.Encoding.DER))
        self.registry.save(record)
        return record

    def enroll(self, national_id: str, full_name: str, token: Token, key_label: str,
               valid_days: int, clock: Clock) -> x509.Certificate:
        """Generate the person's key pair on the open `token` and certify it."""
        nid = validate_national_id(national_id)
        name = normalize(full_name)
        if not name:
            raise DomainError(Reason.INVALID_INPUT, "نام دارندهٔ گواهی خالی است")
        public_key = token.generate_keypair(key_label)
        cert = self._issue(_person_name(nid, name), public_key, _seconds(clock.now()), valid_days)
        self._record(cert, nid, token, key_label)
        return cert

    def renew(self, serial: int, token: Token, valid_days: int, clock: Clock) -> x509.Certificate:
        """A new certificate for the same token-held key; the old one stays valid until it
        expires or is revoked (revoke it with reason 'superseded' when the post changes)."""
        old = self.registry.get(serial)
        if old is None:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی با شمارهٔ سریال {serial:x} ثبت نشده است")
        if old.revoked_at is not None:
            raise DomainError(Reason.CERT_REVOKED, f"گواهی {serial:x} باطل شده و تمدید نمی‌شود")
        if token.label != old.token_label:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"گواهی روی توکن «{old.token_label}» است")
        old_cert = old.certificate()
        old_key = cast(rsa.RSAPublicKey, old_cert.public_key())  # the CA issues RSA certificates only
        if token.public_key(old.key_label).public_numbers() != old_key.public_numbers():
            raise DomainError(Reason.INVALID_INPUT, "کلید روی توکن با گواهی قبلی یکی نیست")
        cert = self._issue(old_cert.subject, token.public_key(old.key_label), _seconds(clock.now()),
                           valid_days)
        self._record(cert, old.national_id, token, old.key_label)
        return cert

    def revoke(self, serial: int, reason: str | x509.ReasonFlags, at: datetime) -> CertificateRecord:
        flag = reason if isinstance(reason, x509.ReasonFlags) else REVOCATION_REASONS.get(str(reason))
        if flag is None or flag is x509.ReasonFlags.remove_from_crl:
            raise DomainError(Reason.INVALID_INPUT, f"علت ابطال نامعتبر: {reason}")
        if self.registry.get(serial) is None:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی با شمارهٔ سریال {serial:x} ثبت نشده است")
        self.registry.mark_revoked(serial, _seconds(at), flag.value)
        record = self.registry.get(serial)
        assert record is not None
        return record

    def _previous_revocations(self) -> dict[int, tuple[datetime, x509.ReasonFlags | None]]:
        """The entries of the CRL this CA last wrote (crl.pem), when it is this CA's: a revocation
        once published stays in every later CRL, whatever the registry says now (a database edit
        of `revoked_at` cannot drop it)."""
        try:
            previous = x509.load_pem_x509_crl(self.crl_path.read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        if previous.issuer != self.certificate.subject or not previous.is_signature_valid(self._key.public_key()):
            return {}
        found: dict[int, tuple[datetime, x509.ReasonFlags | None]] = {}
        for entry in previous:
            try:
                flag: x509.ReasonFlags | None = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            except x509.ExtensionNotFound:
                flag = None
            found[entry.serial_number] = (entry.revocation_date_utc, flag)
        return found

    def crl(self, clock: Clock) -> x509.CertificateRevocationList:
        """Sign a CRL of every revocation up to now, hand it to the registry (which keeps it where
        verifiers read it: services.certificate_registry), then write it to ca_dir/crl.pem.

        Every revocation of the previous crl.pem is kept as it was published (date and reason); the
        registry only adds new ones. The CRL number grows by one per CRL."""
        now = _seconds(clock.now())
        meta_path = self.ca_dir / META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["crl_number"] = int(meta.get("crl_number", 0)) + 1
        builder = (x509.CertificateRevocationListBuilder()
                   .issuer_name(self.certificate.subject)
                   .last_update(now).next_update(now + timedelta(days=CRL_VALID_DAYS))
                   .add_extension(x509.CRLNumber(meta["crl_number"]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self._key.public_key()), critical=False))
        entries = {serial: found for serial, found in self._previous_revocations().items() if found[0] <= now}
        for serial, revoked_at in self.registry.revocations():
            if revoked_at > now or serial in entries:
                continue  # scheduled for later: not yet a fact; published already: stays as published
            record = self.registry.get(serial)
            flag = REVOCATION_REASONS.get(record.revoke_reason or "") if record is not None else None
            entries[serial] = (revoked_at, flag)
        for serial, (revoked_at, flag) in sorted(entries.items(), key=lambda item: (item[1][0], item[0])):
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
            if flag is not None:
                entry = entry.add_extension(x509.CRLReason(flag), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        crl = builder.sign(self._key, hashes.SHA256())
        self.registry.publish_crl(crl.public_bytes(serialization.Encoding.DER))
        self.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return crl
