"""Test doubles for the sealing tests: software RSA-OAEP "tokens" standing in for PKCS#11 ones.

The module name is unique on purpose: tests/ has no packages, so pytest imports test helpers by
their bare module name.
"""
from __future__ import annotations

import base64
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.reasons import DomainError, Reason
from sealing.opening_key import OpeningKeyPlan, create_opening_key, unlock_shares

_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

# The default commission: each voting role has a member and a named alternate.
VOTING = {"chair": ["m-chair", "a-chair"], "finance": ["m-finance", "a-finance"],
          "technical": ["m-technical", "a-technical"]}
SECURITY = ["m-security", "a-security"]
MEMBERS = {role: ids[0] for role, ids in VOTING.items()}


@cache
def token_key(recipient_id: str) -> rsa.RSAPrivateKey:
    """One RSA key per person for the whole test session (generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class SoftwareTokens:
    """KeyWrapper: encrypts to each person's public key only, as the engine would with certificates."""

    def wrap(self, recipient_id: str, secret: bytes) -> dict:
        ct = token_key(recipient_id).public_key().encrypt(secret, _OAEP)
        return {"alg": "RSA-OAEP-SHA256", "recipient": recipient_id, "ct": base64.b64encode(ct).decode()}


class PresentTokens:
    """ShareUnwrapper for the tokens plugged in at the session; anyone else's share stays wrapped."""

    def __init__(self, present: set[str]) -> None:
        self.present = set(present)

    def unwrap(self, recipient_id: str, wrapped: dict) -> bytes:
        if recipient_id not in self.present:
            raise DomainError(Reason.TOKEN_NOT_FOUND, recipient_id)
        return token_key(recipient_id).decrypt(base64.b64decode(wrapped["ct"]), _OAEP)


def make_plan(tender_id: str = "T-1400-012", threshold: int | None = None,
              voting: dict[str, list[str]] | None = None,
              security: list[str] | None = None) -> OpeningKeyPlan:
    return create_opening_key(tender_id, voting or VOTING, SECURITY if security is None else security,
                              SoftwareTokens(), threshold=threshold)


def unlock(plan: OpeningKeyPlan, *recipient_ids: str) -> dict[str, bytes]:
    """The shares of the people present, unwrapped on their own tokens."""
    return unlock_shares(plan, PresentTokens(set(recipient_ids)), recipient_ids)
