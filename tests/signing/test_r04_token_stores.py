"""Issue 11 part 6: several people's own token directories in one process (a rehearsal), each with
its own PIN; the loaded SoftHSM library switches between them (signing.token.route_token).

The process's own store (the `hsm` fixture) keeps working next to them, sessions on different stores
from several threads never see each other's tokens, and a thread that would wait for itself gets a
clear TOKEN_NOT_FOUND instead of hanging."""
from __future__ import annotations

import threading

import pytest
from signing_helpers import PIN, SO_PIN

from domain.reasons import DomainError, Reason
from signing.softhsm import SoftHsm
from signing.token import Token


def _tag(tmp_path) -> str:
    return str(abs(hash(str(tmp_path))) % 10**8)  # token labels are at most 32 characters


def _person(tmp_path, name: str, pin: str) -> SoftHsm:
    store = SoftHsm.person(tmp_path / name)
    store.init_token(f"store-{name}-{_tag(tmp_path)}", pin, SO_PIN)
    with Token(f"store-{name}-{_tag(tmp_path)}", pin=pin) as tok:
        tok.generate_keypair("sign")
    return store


def test_r04_each_person_has_a_store_of_their_own_with_their_own_pin(hsm, tmp_path):
    alice, bob = _person(tmp_path, "alice", "111111"), _person(tmp_path, "bob", "222222")
    a, b = f"store-alice-{_tag(tmp_path)}", f"store-bob-{_tag(tmp_path)}"
    # Each directory holds exactly its owner's token; the other person's PIN does not open it.
    assert alice.token_labels() == [a] and bob.token_labels() == [b]
    assert alice.known == {a} and bob.known == {b}
    with pytest.raises(DomainError) as wrong:
        with Token(a, pin="222222"):
            pass
    assert wrong.value.reason is Reason.TOKEN_PIN_INVALID
    # Alternating between the stores and the process's own store works and signs with the right key.
    hsm.init_token(f"home-{_tag(tmp_path)}", PIN, SO_PIN)
    with Token(f"home-{_tag(tmp_path)}", pin=PIN) as tok:
        tok.generate_keypair("sign")
    for _ in range(3):
        for label, pin in ((a, "111111"), (f"home-{_tag(tmp_path)}", PIN), (b, "222222")):
            with Token(label, pin=pin) as tok:
                assert tok.key_labels() == ["sign"]
                public = tok.public_key("sign")
                signature = tok.sign("sign", b"data")
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            public.verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())


def test_r04_a_store_is_found_again_by_a_new_process_view(hsm, tmp_path):
    _person(tmp_path, "carol", "333333")
    again = SoftHsm.person(tmp_path / "carol")  # a rerun on the same directory: its token is routed again
    assert again.known == {f"store-carol-{_tag(tmp_path)}"}
    with Token(f"store-carol-{_tag(tmp_path)}", pin="333333") as tok:
        assert tok.has_key("sign")


def test_r04_threads_on_different_stores_take_turns(hsm, tmp_path):
    _person(tmp_path, "dave", "444444"), _person(tmp_path, "erin", "555555")
    errors: list[BaseException] = []

    def work(label: str, pin: str) -> None:
        try:
            for _ in range(10):
                with Token(label, pin=pin) as tok:
                    tok.sign("sign", b"x")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"store-{n}-{_tag(tmp_path)}", p))
               for n, p in (("dave", "444444"), ("erin", "555555"))] * 1
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_r04_a_thread_holding_one_store_cannot_wait_for_another(hsm, tmp_path):
    _person(tmp_path, "fay", "666666"), _person(tmp_path, "gus", "777777")
    with Token(f"store-fay-{_tag(tmp_path)}", pin="666666"):
        with pytest.raises(DomainError) as held:
            Token(f"store-gus-{_tag(tmp_path)}", pin="777777").open()
    assert held.value.reason is Reason.TOKEN_NOT_FOUND
    with Token(f"store-gus-{_tag(tmp_path)}", pin="777777") as tok:  # once released, it opens
        assert tok.has_key("sign")
