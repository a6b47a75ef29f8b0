"""Key transport to token-held keys (the commission members' opening-key shares)."""
from __future__ import annotations

import os

import pytest

from domain.reasons import DomainError, Reason
from signing.keytransport import PREFERENCE, WrappedSecret, choose_mechanism, unwrap_secret, wrap_secret


def test_r04_key_share_round_trip_through_the_token(commission):
    member = commission["chair"]
    secret = os.urandom(64)
    with member.token() as tok:
        mechanism = choose_mechanism(tok, member.key_label)
        # Encryption needs only the certificate: no token, no private key in software.
        wrapped = wrap_secret(member.cert, secret, mechanism)
        stored = WrappedSecret.from_dict(wrapped.to_dict())
        assert stored == wrapped
        assert stored.recipient_serial == member.cert.serial_number
        assert unwrap_secret(tok, member.key_label, stored) == secret


def test_r04_recorded_mechanism_is_the_strongest_the_token_supports(commission):
    member = commission["finance"]
    with member.token() as tok:
        mechanism = choose_mechanism(tok)
        assert "RSA_PKCS_OAEP" in tok.mechanisms()
        wrapped = wrap_secret(member.cert, b"share", mechanism)
        assert wrapped.mechanism == mechanism
        assert tok.decrypt(member.key_label, wrapped.ciphertext, wrapped.mechanism) == b"share"
        # Every variant preferred over the chosen one really is refused by this token.
        for stronger in PREFERENCE[:PREFERENCE.index(mechanism)]:
            with pytest.raises(DomainError) as err:
                tok.decrypt(member.key_label, wrap_secret(member.cert, b"share", stronger).ciphertext, stronger)
            assert err.value.reason is Reason.INVALID_INPUT


def test_r04_share_wrapped_for_another_member_does_not_open(commission):
    chair, technical = commission["chair"], commission["technical"]
    with chair.token() as tok:
        mechanism = choose_mechanism(tok, chair.key_label)
    wrapped = wrap_secret(technical.cert, b"technical's share", mechanism)
    with chair.token() as tok, pytest.raises(DomainError) as err:
        unwrap_secret(tok, chair.key_label, wrapped)
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("secret", [b"", os.urandom(65)], ids=["empty", "too-long"])
def test_secret_size_is_limited(commission, secret):
    with pytest.raises(DomainError) as err:
        wrap_secret(commission["chair"].cert, secret, "RSA_PKCS_OAEP_SHA1")
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("mechanism", ["RSA_PKCS", "RSA_X_509", "RSA_PKCS_OAEP_MD5"])
def test_no_raw_or_legacy_rsa_path(commission, mechanism):
    member = commission["chair"]
    with pytest.raises(DomainError):
        wrap_secret(member.cert, b"x", mechanism)
    with member.token() as tok, pytest.raises(DomainError):
        unwrap_secret(tok, member.key_label, WrappedSecret(mechanism, None, b"\0" * 256))
