"""R01: a PIN typed in Persian or Arabic-Indic digits is read like any other input."""
from __future__ import annotations

from signing_helpers import PIN, SO_PIN

from domain.persian import persian_digits
from signing.token import Token, pin_env_name


def test_r01_a_pin_in_persian_digits_opens_the_token(hsm, monkeypatch):
    hsm.init_token("fa-pin-token", PIN, SO_PIN)
    persian = persian_digits(PIN)
    assert persian != PIN
    with Token("fa-pin-token", pin=persian) as tok:  # typed at the station
        assert tok.label == "fa-pin-token"
    arabic = PIN.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    monkeypatch.setenv(pin_env_name("fa-pin-token"), f" {arabic} ")
    with Token("fa-pin-token") as tok:  # from the environment
        assert tok.label == "fa-pin-token"
