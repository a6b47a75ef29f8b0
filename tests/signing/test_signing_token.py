"""Token access: PINs, labels, removal, keys that never leave the token."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pkcs11 import Attribute, exceptions as p11
from signing_helpers import PIN, SO_PIN

from domain.reasons import DomainError, Reason
from signing import token as token_module
from signing.token import Token, pin_env_name, resolve_pin


def test_r04_wrong_pin_is_token_pin_invalid(commission):
    chair = commission["chair"]
    with pytest.raises(DomainError) as err:
        with chair.token(pin="999999"):
            pass
    assert err.value.reason is Reason.TOKEN_PIN_INVALID
    text = f"{err.value} {err.value.message_fa} {err.value.to_dict()} {err.value.__cause__!r}"
    assert "999999" not in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_r04_missing_token_label_is_token_not_found(hsm):
    with pytest.raises(DomainError) as err:
        with Token("no-such-token", pin=PIN):
            pass
    assert err.value.reason is Reason.TOKEN_NOT_FOUND


def test_r04_unknown_key_label_is_token_not_found(commission):
    with commission["chair"].token() as tok, pytest.raises(DomainError) as err:
        tok.sign("no-such-key", b"data")
    assert err.value.reason is Reason.TOKEN_NOT_FOUND


def test_r04_removed_token_is_token_not_found_and_absent(enroll, hsm):
    person = enroll("کاوه بهرامی")
    assert token_module.token_present(person.label)
    hsm.delete_token(person.label)
    assert not token_module.token_present(person.label)
    with pytest.raises(DomainError) as err:
        with person.token():
            pass
    assert err.value.reason is Reason.TOKEN_NOT_FOUND


def test_r04_token_created_after_the_library_loaded_is_found(hsm, commission):
    # The library is loaded (the commission fixture used it); SoftHSM only sees new tokens
    # after re-initialising, which signing.token does when no session is open.
    hsm.init_token("late-token", PIN, SO_PIN)
    with Token("late-token", pin=PIN) as tok:
        assert tok.key_labels() == []


def test_r04_private_key_is_sensitive_and_never_extractable(commission):
    with commission["chair"].token() as tok:
        key = tok._private("sign")
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
        with pytest.raises(p11.AttributeSensitive):
            key[Attribute.PRIVATE_EXPONENT]


def test_r04_token_signature_verifies_with_the_certificate_key(commission):
    person = commission["finance"]
    with person.token() as tok:
        signature = tok.sign(person.key_label, b"payload")
        assert tok.public_key(person.key_label).public_numbers() == person.cert.public_key().public_numbers()
    person.cert.public_key().verify(signature, b"payload", padding.PKCS1v15(), hashes.SHA256())


def test_r04_certificate_is_stored_on_the_token(commission):
    from cryptography.hazmat.primitives.serialization import Encoding

    person = commission["technical"]
    with person.token() as tok:
        assert tok.certificate(person.key_label) == person.cert.public_bytes(Encoding.DER)
        assert tok.certificate("other") is None


def test_two_sessions_on_one_token_in_one_process(commission):
    person = commission["chair"]
    with person.token() as first, person.token() as second:
        assert first.sign(person.key_label, b"x") == second.sign(person.key_label, b"x")


def test_pin_comes_from_token_env_then_shared_env_then_prompt(monkeypatch):
    monkeypatch.delenv("EPROC_TOKEN_PIN", raising=False)
    monkeypatch.delenv(pin_env_name("district-2/chair"), raising=False)
    prompts = []
    monkeypatch.setattr(token_module.getpass, "getpass", lambda prompt: prompts.append(prompt) or "from-prompt")
    assert resolve_pin("district-2/chair") == "from-prompt"
    assert "district-2/chair" in prompts[0] and "رمز" in prompts[0]

    monkeypatch.setenv("EPROC_TOKEN_PIN", "shared")
    assert resolve_pin("district-2/chair") == "shared"
    monkeypatch.setenv("EPROC_TOKEN_PIN_DISTRICT_2_CHAIR", "own")
    assert resolve_pin("district-2/chair") == "own"
    assert resolve_pin("district-2/chair", "given") == "given"


def test_empty_prompt_is_token_pin_invalid(monkeypatch):
    monkeypatch.delenv("EPROC_TOKEN_PIN", raising=False)
    monkeypatch.setattr(token_module.getpass, "getpass", lambda prompt: "")
    with pytest.raises(DomainError) as err:
        resolve_pin("lonely")
    assert err.value.reason is Reason.TOKEN_PIN_INVALID


def test_token_pin_from_environment_opens_the_token(commission, monkeypatch):
    person = commission["chair"]
    monkeypatch.setenv(pin_env_name(person.label), PIN)
    with Token(person.label) as tok:
        assert person.key_label in tok.key_labels()


def test_repr_never_shows_the_pin(commission):
    assert PIN not in repr(commission["chair"].token())
