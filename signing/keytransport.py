"""Key transport: a short secret (a key share, at most 64 bytes) encrypted to a member's
token-held RSA key with RSA-OAEP, using only the public key in software, and decrypted ON
the token.

PKCS#11 reports OAEP as one mechanism (CKM_RSA_PKCS_OAEP) whose hash is a parameter, so
the mechanism list says whether OAEP exists at all and a one-off round trip through the
token says which hash it accepts. SoftHSM 2.6.1 accepts only SHA-1 (SHA-256 fails with
ArgumentsBad); OAEP-SHA1 is still sound for encryption (it relies on SHA-1 only as a
random-oracle-like mask, not for collision resistance). The mechanism used is recorded
with the ciphertext. There is deliberately no raw-RSA or PKCS#1 v1.5 path.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.reasons import DomainError, Reason
from signing.token import OAEP_MECHANISMS, Token

MAX_SECRET_BYTES = 64
PREFERENCE = ("RSA_PKCS_OAEP_SHA256", "RSA_PKCS_OAEP_SHA1")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}


@dataclass(frozen=True)
class WrappedSecret:
    mechanism: str
    recipient_serial: int | None
    ciphertext: bytes

    def to_dict(self) -> dict[str, object]:
        return {"mechanism": self.mechanism,
                "recipient_serial": str(self.recipient_serial) if self.recipient_serial is not None else None,
                "ciphertext": base64.b64encode(self.ciphertext).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> WrappedSecret:
        try:
            serial = data.get("recipient_serial")
            return cls(mechanism=str(data["mechanism"]),
                       recipient_serial=int(str(serial)) if serial is not None else None,
                       ciphertext=base64.b64decode(str(data["ciphertext"]), validate=True))
        except (KeyError, ValueError) as exc:
            raise DomainError(Reason.INVALID_INPUT, "رمزنگارهٔ کلید نامعتبر است",
                              error=type(exc).__name__) from None


def _oaep(mechanism: str) -> padding.OAEP:
    spec = OAEP_MECHANISMS.get(mechanism)
    if spec is None:
        raise DomainError(Reason.INVALID_INPUT, f"سازوکار انتقال کلید مجاز نیست: {mechanism}")
    algorithm = _HASHES[spec.hash_name]()
    return padding.OAEP(mgf=padding.MGF1(algorithm=algorithm), algorithm=algorithm, label=None)


def wrap_secret(cert_or_public_key: x509.Certificate | rsa.RSAPublicKey, secret: bytes,
                mechanism: str) -> WrappedSecret:
    if not 0 < len(secret) <= MAX_SECRET_BYTES:
        raise DomainError(Reason.INVALID_INPUT, f"طول راز باید بین ۱ و {MAX_SECRET_BYTES} بایت باشد")
    serial = cert_or_public_key.serial_number if isinstance(cert_or_public_key, x509.Certificate) else None
    public = (cert_or_public_key.public_key() if isinstance(cert_or_public_key, x509.Certificate)
              else cert_or_public_key)
    if not isinstance(public, rsa.RSAPublicKey):
        raise DomainError(Reason.INVALID_INPUT, "کلید گیرنده RSA نیست")
    return WrappedSecret(mechanism, serial, public.encrypt(bytes(secret), _oaep(mechanism)))


def choose_mechanism(token: Token, key_label: str | None = None) -> str:
    """The strongest OAEP variant this token really decrypts with (by default its first key)."""
    if "RSA_PKCS_OAEP" not in token.mechanisms():
        raise DomainError(Reason.INVALID_INPUT, f"توکن «{token.label}» از RSA-OAEP پشتیبانی نمی‌کند")
    if key_label is None:
        labels = token.key_labels()
        if not labels:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"روی توکن «{token.label}» کلیدی نیست")
        key_label = labels[0]
    public = token.public_key(key_label)
    probe = os.urandom(16)
    for name in PREFERENCE:
        try:
            if token.decrypt(key_label, wrap_secret(public, probe, name).ciphertext, name) == probe:
                return name
        except DomainError as exc:
            if exc.reason is not Reason.INVALID_INPUT:
                raise  # wrong PIN or token gone is not "unsupported"
    raise DomainError(Reason.INVALID_INPUT, f"توکن «{token.label}» هیچ گونهٔ مجاز RSA-OAEP را نمی‌پذیرد")


def unwrap_secret(token: Token, key_label: str, wrapped: WrappedSecret) -> bytes:
    """Decrypt on the token; the secret never passes through a software private key."""
    if wrapped.mechanism not in OAEP_MECHANISMS:
        raise DomainError(Reason.INVALID_INPUT, f"سازوکار انتقال کلید مجاز نیست: {wrapped.mechanism}")
    return token.decrypt(key_label, wrapped.ciphertext, wrapped.mechanism)
