"""R08: with database access alone (sealed bids + opening-key plan) no bid content can be read."""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from itertools import permutations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sealing_testkit import MEMBERS, SECURITY, VOTING, make_plan, unlock

from domain.reasons import DomainError, Reason
from sealing.content import EnvelopeA, EnvelopeB, EnvelopeC, Guarantee, encode_envelope
from sealing.envelopes import envelope_ad, open_envelope, seal_bid
from sealing.opening_key import rebuild_private_key

PLAINTEXTS = {
    "A": encode_envelope(EnvelopeA(guarantee=Guarantee(amount_rial=75_000_000, valid_until="1400/07/12"))),
    "B": encode_envelope(EnvelopeB(documents=["اساسنامه", "گواهی رتبه"], grade=2)),
    "C": encode_envelope(EnvelopeC(coefficient="0.93")),
}


@pytest.fixture(scope="module")
def database():
    """Everything the store keeps: the plan JSON and each sealed bid's blob."""
    plan = make_plan("T-db")
    bids = [seal_bid("T-db", f"bidder-{i}", PLAINTEXTS, plan.public_key_b64) for i in range(2)]
    stored = [b.to_bytes() for b in bids] + [b.to_json().encode("utf-8") for b in bids]
    return plan, bids, plan.to_json().encode("utf-8"), stored


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _byte_fields(document: bytes) -> list[bytes]:
    """The stored bytes themselves, plus every JSON string in them, raw and base64-decoded."""
    out = [document]
    try:
        parsed = json.loads(document)
    except ValueError:
        # The binary blob: its JSON header sits between the length prefix and the ciphertexts.
        start = document.index(b"\n") + 5
        parsed = json.loads(document[start:start + int.from_bytes(document[start - 4:start], "big")])
    for s in _strings(parsed):
        out.append(s.encode("utf-8"))
        try:
            out.append(base64.b64decode(s, validate=True))
        except (binascii.Error, ValueError):
            pass
    return out


def test_r08_stored_documents_hold_no_plaintext(database):
    plan, bids, plan_doc, blobs = database
    for doc in (plan_doc, *blobs):
        fields = _byte_fields(doc)
        for plaintext in PLAINTEXTS.values():
            assert plaintext not in doc
            assert not any(plaintext in f for f in fields)
        for marker in ("اساسنامه".encode(), b"0.93", b"75000000"):
            assert not any(marker in f for f in fields)


def test_r08_stored_documents_hold_no_key_and_no_unwrapped_share(database):
    plan, bids, plan_doc, blobs = database
    everyone = [r for ids in VOTING.values() for r in ids] + SECURITY
    secrets = unlock(plan, *everyone)
    key = rebuild_private_key(plan, unlock(plan, *MEMBERS.values(), SECURITY[0]))
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    # K xor S_sec is what the voting roles' shares reconstruct: storing it would bypass their quorum.
    k_vote = bytes(x ^ y for x, y in zip(private, secrets[SECURITY[0]]))
    for doc in (plan_doc, *blobs):
        fields = _byte_fields(doc)
        for secret in (private, k_vote, *secrets.values()):
            assert not any(secret in f for f in fields)
            assert base64.b64encode(secret) not in doc


def test_r08_nothing_stored_opens_an_envelope(database):
    """Try every 32-byte window of every stored value, and xors of the 32-byte values, as a key.

    Were a private key, an envelope key or an unwrapped share kept anywhere in the store (raw,
    xor-split or next to its nonce), one of these candidates would open an envelope.
    """
    plan, bids, plan_doc, blobs = database
    fields = [f for doc in (plan_doc, *blobs) for f in _byte_fields(doc)]
    whole = {f for f in fields if len(f) == 32}
    assert max(len(doc) for doc in blobs) < 4096  # small bids keep the window search quick
    candidates = {f[i:i + 32] for f in fields for i in range(len(f) - 31)}
    candidates |= {bytes(x ^ y for x, y in zip(a, b)) for a, b in permutations(list(whole), 2)}
    assert len(candidates) > 1000  # RSA-wrapped shares and wrapped keys alone give this many windows
    bid = bids[0]
    for candidate in candidates:
        for env in bid.envelopes:
            ad = envelope_ad(bid.tender_id, bid.bidder_id, env.letter)
            with pytest.raises(InvalidTag):
                AESGCM(candidate).decrypt(env.nonce, env.ciphertext, ad)
        as_key = X25519PrivateKey.from_private_bytes(candidate)
        own_pub = base64.b64encode(as_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        disguised = dataclasses.replace(bid, opening_public_key_b64=own_pub)
        with pytest.raises(DomainError) as err:
            open_envelope(disguised, "C", as_key, bid.envelope("C").sha256)
        assert err.value.reason is Reason.ENVELOPE_TAMPERED


def test_r08_the_commission_with_security_does_open_what_the_database_holds(database):
    """The positive control for the tests above: the same documents open with the tokens' shares."""
    plan, bids, plan_doc, blobs = database
    from sealing.envelopes import SealedBid
    from sealing.opening_key import OpeningKeyPlan

    stored_plan = OpeningKeyPlan.from_json(plan_doc)
    key = rebuild_private_key(stored_plan, unlock(stored_plan, *MEMBERS.values(), SECURITY[1]))
    for blob in blobs:
        bid = SealedBid.from_bytes(blob) if blob.startswith(b"EPROC") else SealedBid.from_json(blob)
        for env in bid.envelopes:
            assert open_envelope(bid, env.letter, key, env.sha256) == PLAINTEXTS[env.letter]
