"""The commission members' stations at a sitting (issue 12 part 2; R04, R08; "Stations and trust").

    join(member, tender_id, session, ca_pem) -> Joined

The member's station fetches its parts of every bid's key (wrapped by each bidder to the member's
certificate) and the sitting's key the engine signed; checks that key with the CA certificate;
unwraps the parts on the member's own token; encrypts them (AES-256-GCM under a fresh key, wrapped
to the sitting's key with RSA-OAEP) and sends them in a PartsRelease signed on the token. Nothing
unwrapped leaves the station except inside that encryption, and only for that sitting.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_der_public_key

from domain.documents.session import PartsReleaseContent, build_parts_release, release_ad
from domain.reasons import DomainError, Reason
from signing.keytransport import wrap_secret
from stations.client import Station
from stations.verify import verify_session_key


@dataclass(frozen=True)
class Joined:
    """A member's release as the engine took it: member id, number of parts, SHA-256 of the request."""

    member_id: str
    parts: int
    sha256: str


def sitting_path(tender_id: str, session: str) -> str:
    return f"/v1/tenders/{tender_id}/sessions/{session}"


def join(member: Station, tender_id: str, session: str, ca_pem: bytes) -> Joined:
    """Release the logged-in member's parts for the sitting `session` (opening | price_opening).

    Raises: WRONG_STAGE (the sitting is not open, or this member released already with other parts),
    NOT_AUTHORISED (not a member in the session's role), the sitting key's checks (SIGNATURE_INVALID,
    CERT_*, INVALID_INPUT), INVALID_INPUT (a part not addressed to this member, or one this token cannot
    unwrap), TOKEN_*, STORE_UNREACHABLE. Rule: issue 12; R08."""
    info = member.get(sitting_path(tender_id, session) + "/parts").json()
    state = member.get(sitting_path(tender_id, session)).json()
    if info["member_id"] in state["released"]:  # released already (a retry, a rerun): nothing to send again
        return Joined(str(info["member_id"]), 0, "")
    key_xml = str(info["session_key"]).encode("utf-8")
    key = verify_session_key(key_xml, ca_pem, tender_id, session)
    public = load_der_public_key(key.public_key_der)
    if not isinstance(public, rsa.RSAPublicKey):
        raise DomainError(Reason.INVALID_INPUT, "کلید جلسه RSA نیست")
    member_id = str(info["member_id"])
    parts = list(info["parts"])
    for p in parts:
        if p["share"]["recipient_id"] != member_id:
            raise DomainError(Reason.INVALID_INPUT, f"سهم پیشنهاد «{p['bidder_id']}» از آنِ عضو دیگری است")
    secrets = member.signer.unwrap_many([p["share"]["wrapped"] for p in parts])  # on the member's own token
    batch = json.dumps({p["key_id"]: base64.b64encode(s).decode("ascii") for p, s in zip(parts, secrets, strict=True)},
                       sort_keys=True).encode("utf-8")
    del secrets
    batch_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    ciphertext = AESGCM(batch_key).encrypt(nonce, batch, release_ad(tender_id, session, member_id))
    wrapped = wrap_secret(public, batch_key, key.mechanism).ciphertext
    del batch, batch_key
    doc = build_parts_release(PartsReleaseContent(tender_id, session, member_id, hashlib.sha256(key_xml).hexdigest(),
                                                  len(parts), wrapped, nonce, ciphertext))
    answer = member.post_signed(sitting_path(tender_id, session) + "/releases", doc).json()
    return Joined(str(answer["member_id"]), int(answer["parts"]), str(answer["sha256"]))
