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


def test_r04_a_key_that_reads_as_missing_for_a_moment_is_looked_for_again(commission, monkeypatch):
    """SoftHSM's file store can hide a token's objects while another process writes the same store: the
    key is looked for again (signing.token.RESCAN_PAUSES) before the token is called detached; a key that
    stays missing is still refused."""
    import pkcs11

    chair = commission["chair"]
    misses = {"left": 2}

    class Flaky:  # the real session, whose key lookups miss twice (a pkcs11 Session is read-only)
        def __init__(self, session):
            self.session = session

        def get_key(self, *args, **kwargs):
            if misses["left"]:
                misses["left"] -= 1
                raise pkcs11.NoSuchKey()
            return self.session.get_key(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.session, name)

    with chair.token() as tok:
        flaky = Flaky(tok._s())
        monkeypatch.setattr(tok, "_s", lambda: flaky)
        signature = tok.sign("sign", b"after two misses")
        chair.cert.public_key().verify(signature, b"after two misses", padding.PKCS1v15(), hashes.SHA256())
        assert misses["left"] == 0
        with pytest.raises(DomainError) as refused:
            tok.sign("no-such-key", b"x")
        assert refused.value.reason is Reason.TOKEN_NOT_FOUND


def test_r04_a_token_that_refuses_to_open_for_a_moment_is_opened_again(commission, monkeypatch):
    """Another process rewriting a SoftHSM token's files can make opening a session or logging in fail
    with a generic error for a moment: the session is opened again (signing.token._open_session), while
    a wrong PIN is never tried twice."""
    import pkcs11

    from signing.token import Token

    chair = commission["chair"]
    module = load_module()
    real_find = module.find_token
    failures = {"left": 2, "opens": 0}

    class Flaky:  # the real token, whose first two opens fail (a pkcs11 Token is read-only)
        def __init__(self, token):
            self.token = token

        def open(self, **kwargs):
            failures["opens"] += 1
            if failures["left"]:
                failures["left"] -= 1
                raise pkcs11.GeneralError()
            return self.token.open(**kwargs)

        def __getattr__(self, name):
            return getattr(self.token, name)

    monkeypatch.setattr(module, "find_token", lambda label: Flaky(real_find(label)))
    with chair.token() as tok:
        signature = tok.sign("sign", b"after two refusals")
    chair.cert.public_key().verify(signature, b"after two refusals", padding.PKCS1v15(), hashes.SHA256())
    assert failures == {"left": 0, "opens": 3}
    failures["opens"] = 0
    with pytest.raises(DomainError) as refused:
        with Token(chair.label, pin="000000"):
            pass
    assert refused.value.reason is Reason.TOKEN_PIN_INVALID and failures["opens"] == 1
