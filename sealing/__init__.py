"""Sealed bid envelopes and the tender's opening key split among the Article 13 commission."""
from sealing.content import (
    EnvelopeA,
    EnvelopeB,
    EnvelopeC,
    Guarantee,
    decode_envelope,
    encode_envelope,
    envelope_from_dict,
)
from sealing.envelopes import (
    LETTERS,
    SealedBid,
    SealedEnvelope,
    check_manifest,
    manifest_hashes,
    manifest_xml,
    open_envelope,
    seal_bid,
)
from sealing.opening_key import (
    SECURITY_ROLE,
    EncryptedShare,
    KeyWrapper,
    OpeningKeyPlan,
    ShareUnwrapper,
    create_opening_key,
    rebuild_private_key,
    unlock_shares,
)

__all__ = [
    "LETTERS", "SECURITY_ROLE", "EncryptedShare", "EnvelopeA", "EnvelopeB", "EnvelopeC",
    "Guarantee", "KeyWrapper", "OpeningKeyPlan", "SealedBid", "SealedEnvelope", "ShareUnwrapper",
    "check_manifest", "create_opening_key", "decode_envelope", "encode_envelope",
    "envelope_from_dict", "manifest_hashes", "manifest_xml", "open_envelope",
    "rebuild_private_key", "seal_bid", "unlock_shares",
]
