"""Kept token sessions (signing.token.keep_sessions, for `eproc serve`): a long-running server logs in
once per token, yet a wrong PIN is still refused, and the kept session never outlives a token error
or a switch of token store."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from signing_helpers import PIN

from domain.reasons import DomainError, Reason
from signing import token as token_module
from signing.token import keep_sessions, load_module


@pytest.fixture
def kept():
    keep_sessions()
    yield load_module()
    keep_sessions(False)


def test_r04_a_kept_session_is_reused_and_signs(commission, kept):
    chair = commission["chair"]
    with chair.token() as tok:
        first = tok._s()
        tok.sign("sign", b"one")
    assert chair.label in kept.kept  # logged in, parked
    with chair.token() as tok:
        assert tok._s() is first  # no new session, no new login
        signature = tok.sign("sign", b"two")
    chair.cert.public_key().verify(signature, b"two", padding.PKCS1v15(), hashes.SHA256())
    keep_sessions(False)
    assert chair.label not in kept.kept and kept.sessions[chair.label] == 0


def test_r04_a_wrong_pin_is_refused_even_with_a_kept_session(commission, kept):
    chair = commission["chair"]
    with chair.token() as tok:
        tok.sign("sign", b"one")
    assert chair.label in kept.kept
    with pytest.raises(DomainError) as err:
        with chair.token(pin="999999"):
            pass
    assert err.value.reason is Reason.TOKEN_PIN_INVALID
    assert chair.label not in kept.kept  # logged out before the wrong PIN was tried
    with chair.token(pin=PIN) as tok:  # the right PIN logs in again
        tok.sign("sign", b"three")


def test_r04_a_session_that_saw_a_token_error_is_not_kept(commission, kept):
    chair = commission["chair"]
    with chair.token() as tok, pytest.raises(DomainError):
        tok.sign("no-such-key", b"data")
    assert chair.label not in kept.kept and kept.sessions[chair.label] == 0


def test_r04_off_by_default_every_session_is_closed(commission):
    chair = commission["chair"]
    assert not token_module._KEEP.is_set()
    with chair.token() as tok:
        tok.sign("sign", b"one")
    assert chair.label not in load_module().kept and load_module().sessions[chair.label] == 0


def test_r04_kept_sessions_give_way_when_the_library_switches_stores(hsm, tmp_path, kept):
    from signing_helpers import SO_PIN

    from signing.softhsm import SoftHsm
    from signing.token import Token

    tag = str(abs(hash(str(tmp_path))) % 10**8)
    labels = []
    for name, pin in (("dana", "444444"), ("ehsan", "555555")):
        store = SoftHsm.person(tmp_path / name)
        store.init_token(f"kept-{name}-{tag}", pin, SO_PIN)
        with Token(f"kept-{name}-{tag}", pin=pin) as tok:
            tok.generate_keypair("sign")
        labels.append((f"kept-{name}-{tag}", pin))
    for _ in range(2):
        for label, pin in labels:  # each open switches stores: the other store's kept session is closed
            with Token(label, pin=pin) as tok:
                assert tok.key_labels() == ["sign"]
                tok.sign("sign", b"data")
            assert list(kept.kept) == [label]
