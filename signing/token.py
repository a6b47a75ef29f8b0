"""PKCS#11 token access (python-pkcs11): keys never leave the token.

- The module path comes from the caller, else the settings (config/settings.py `pkcs11_module`,
  env EPROC_PKCS11_MODULE, SoftHSM2's path by default). One `pkcs11.lib` per path per process: a PKCS#11 library
  can be initialised only once per process.
- Tokens are selected by label, never by slot number (slot ids change between boots).
- The PIN comes from the argument, else the settings (`Settings.token_pin`: env
  EPROC_TOKEN_PIN_<LABEL>, else EPROC_TOKEN_PIN), else an interactive prompt. It is never logged and never put in exception text.
- Every pkcs11 exception is turned into a DomainError with a reason code: wrong PIN or locked
  token -> TOKEN_PIN_INVALID; unknown label, unknown key, removed token -> TOKEN_NOT_FOUND.

Keys are RSA-2048: the same token key signs (RSA PKCS#1 v1.5 + SHA-256, which xmlsec1 and
every XMLDSig verifier accept as rsa-sha256) and receives key-transport secrets (RSA-OAEP),
which elliptic-curve keys on SoftHSM cannot do without ECDH plumbing; key generation takes
about 0.2 s on SoftHSM, fast enough for per-test enrolment.

python-pkcs11 sessions are not thread-safe: use one Token (session) per thread.

Token stores (SoftHSM2 only): one process may use the token directories of several people, each a
SoftHSM2 configuration of its own (a rehearsal gives every simulated person a directory and PIN of
their own, as at their own station). `route_token(label, conf)` says which configuration holds a
token; SoftHSM2 reads SOFTHSM2_CONF at C_Initialize, so opening a token of another store waits until
no session of ours is open, then re-initialises the library on that store (about 0.2 ms). Unrouted
labels live in the configuration the library was first loaded with. Vendor modules are never routed.

Kept sessions (`keep_sessions()`, for long-running processes such as `eproc serve`): a token's
logged-in session is kept open between uses instead of being logged out and closed, and the next
`Token` of that label reuses it (still one thread at a time) when its PIN is the one the session
logged in with; any other PIN logs the kept session out first, so a wrong PIN is still refused.
Kept sessions are closed before the library switches stores or rescans for a new token, and a
session that saw a token error is never kept. Off by default (rehearsals switch stores constantly).
"""
from __future__ import annotations

import getpass
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import MGF, Attribute, CertificateType, KeyType, Mechanism, MechanismFlag, ObjectClass, exceptions as p11

from config.settings import get_settings, pin_env_name  # noqa: F401 (pin_env_name: the settings' PIN naming)
from domain.persian import normalize_digits
from domain.reasons import DomainError, Reason

RSA_BITS = 2048

_SIGN_MECHANISMS = {
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}


@dataclass(frozen=True)
class OaepMechanism:
    name: str
    hash_name: str  # hashlib/cryptography name of the OAEP hash and MGF1 hash
    param: tuple[Mechanism, MGF, None]


# Only OAEP: PKCS#1 v1.5 encryption and raw RSA are not offered (padding-oracle history).
OAEP_MECHANISMS: dict[str, OaepMechanism] = {
    "RSA_PKCS_OAEP_SHA256": OaepMechanism("RSA_PKCS_OAEP_SHA256", "sha256", (Mechanism.SHA256, MGF.SHA256, None)),
    "RSA_PKCS_OAEP_SHA1": OaepMechanism("RSA_PKCS_OAEP_SHA1", "sha1", (Mechanism.SHA_1, MGF.SHA1, None)),
}

_PIN_ERRORS = (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange, p11.PinLocked, p11.PinExpired,
               p11.UserPinNotInitialized, p11.UserNotLoggedIn)
_GONE_ERRORS = (p11.NoSuchToken, p11.TokenNotPresent, p11.TokenNotRecognised, p11.DeviceRemoved,
                p11.SessionClosed, p11.SessionHandleInvalid, p11.ObjectHandleInvalid,
                p11.KeyHandleInvalid, p11.SlotIDInvalid, p11.DeviceError)
# Generic failures: a pulled-out token, or (SoftHSM) an OAEP block that is not for this key.
_GENERIC_ERRORS = (p11.GeneralError, p11.FunctionFailed)
_INPUT_ERRORS = (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange, p11.DataInvalid, p11.DataLenRange,
                 p11.MechanismInvalid, p11.MechanismParamInvalid, p11.ArgumentsBad,
                 p11.FunctionNotSupported, p11.KeyTypeInconsistent, p11.KeySizeRange)


def module_path(path: str | None = None) -> str:
    return path or get_settings().pkcs11_module


def resolve_pin(label: str, pin: str | None = None) -> str:
    """PIN from the argument, the settings (per-token env, then the shared env), or a Persian prompt.

    Persian and Arabic-Indic digits and surrounding spaces are read like any other input
    (domain.persian.normalize_digits): a PIN typed as ۱۳۵۷ is 1357.

    Raises: TOKEN_PIN_INVALID when no PIN is given at the prompt."""
    if pin:
        return _normal_pin(pin)
    value = get_settings().token_pin(label)
    if value:
        return _normal_pin(value)
    try:
        entered = getpass.getpass(f"رمز توکن «{label}» را وارد کنید: ")
    except (EOFError, KeyboardInterrupt, OSError):
        entered = ""
    if not entered.strip():
        raise DomainError(Reason.TOKEN_PIN_INVALID, "رمزی وارد نشد")
    return _normal_pin(entered)


def _normal_pin(pin: str) -> str:
    return normalize_digits(pin).strip()


RESCAN_PAUSES = (0.05, 0.2, 0.5, 0.0)


class _Module:
    """One loaded PKCS#11 library and the number of sessions we hold open on it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.free = threading.Condition(self.lock)  # notified when a session closes (store switches wait)
        self.sessions: Counter[str] = Counter()  # our open sessions per token label
        self.held = threading.local()  # sessions the current thread holds open (`count`)
        # label -> (logged-in session, its PIN) kept open between uses (keep_sessions); counted in `sessions`
        self.kept: dict[str, tuple[Any, str]] = {}
        self.home_conf = os.environ.get("SOFTHSM2_CONF")  # the store the library is loaded with
        self.active_conf = self.home_conf
        try:
            self.lib = pkcs11.lib(path)
        except (OSError, RuntimeError) as exc:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"کتابخانهٔ PKCS#11 بارگذاری نشد: {path}",
                              error=type(exc).__name__) from None

    def drop_kept(self, label: str | None = None) -> None:
        """Log out and close the kept session of `label` (of every label: None). Caller holds `lock`."""
        for kept_label in [label] if label is not None else list(self.kept):
            found = self.kept.pop(kept_label, None)
            if found is None:
                continue
            self.sessions[kept_label] -= 1
            try:
                found[0].close()
            except p11.PKCS11Error:
                pass  # token already gone: nothing left to close
            self.free.notify_all()

    def _scan(self, label: str) -> pkcs11.Token | None:
        for slot in self.lib.get_slots(token_present=True):
            try:
                token = slot.get_token()
            except p11.PKCS11Error:
                continue  # a removed SoftHSM token reads as GeneralError; it is simply not there
            if token.label == label:
                return token
        return None

    def select_store(self, label: str) -> None:
        """Make the store holding `label` (route_token) the loaded one: wait until no session of ours
        is open on another store, then re-initialise the library on this one.

        Raises: TOKEN_NOT_FOUND when this thread itself still holds a session on another store (it
        would wait for itself)."""
        if not _STORES and self.active_conf == self.home_conf:
            return
        conf = _STORES.get(label, self.home_conf)
        if conf is None:
            return
        with self.lock:
            if self.active_conf != conf:
                self.drop_kept()
            while self.active_conf != conf and +self.sessions:
                if getattr(self.held, "count", 0):
                    raise DomainError(Reason.TOKEN_NOT_FOUND, f"توکن «{label}» در مخزن توکن دیگری است و نشست "
                                                              "توکن دیگری در همین رشته هنوز باز است")
                self.free.wait()
            if self.active_conf != conf:
                if conf is None:
                    os.environ.pop("SOFTHSM2_CONF", None)
                else:
                    os.environ["SOFTHSM2_CONF"] = conf
                self.lib.reinitialize()
                self.active_conf = conf

    def find_token(self, label: str) -> pkcs11.Token:
        with self.lock:
            self.select_store(label)
            # A token can read as absent for a moment while another process writes the same
            # token store (SoftHSM's file backend) or a USB token re-enumerates: look again a few
            # times before saying it is not there.
            for pause in RESCAN_PAUSES:
                token = self._scan(label)
                if token is None:
                    self.drop_kept()
                if token is None and not +self.sessions:
                    # SoftHSM sees tokens created after C_Initialize only after re-initialising;
                    # that would close every session, so it is done only when none is open.
                    self.lib.reinitialize()
                    token = self._scan(label)
                if token is not None:
                    return token
                if pause:
                    time.sleep(pause)
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"توکن «{label}»")

    def labels(self) -> list[str]:
        with self.lock:
            found = []
            for slot in self.lib.get_slots(token_present=True):
                try:
                    found.append(slot.get_token().label)
                except p11.PKCS11Error:
                    continue
            return found


_MODULES: dict[str, _Module] = {}
_MODULES_LOCK = threading.Lock()
_STORES: dict[str, str] = {}  # token label -> the SOFTHSM2_CONF of the store that holds it
# One thread at a time on a token: PKCS#11 login state is per process and token, and python-pkcs11's
# Session.close() logs out the session that logged in, which would log out another thread mid-signature.
_TOKEN_LOCKS: dict[str, threading.RLock] = {}


def _token_lock(label: str) -> threading.RLock:
    with _MODULES_LOCK:
        lock = _TOKEN_LOCKS.get(label)
        if lock is None:
            lock = _TOKEN_LOCKS[label] = threading.RLock()
        return lock


_KEEP = threading.Event()  # set: logged-in sessions are kept between uses (keep_sessions)


def keep_sessions(enabled: bool = True) -> None:
    """Keep each token's logged-in session open between uses in this process (see the module
    docstring): a long-running server signing many documents (receipts in a deadline burst) then
    pays C_OpenSession and C_Login once instead of at every signature. `False` closes the kept ones."""
    if enabled:
        _KEEP.set()
        return
    _KEEP.clear()
    with _MODULES_LOCK:
        modules = list(_MODULES.values())
    for module in modules:
        with module.lock:
            module.drop_kept()


def route_token(label: str, conf: str | os.PathLike[str]) -> None:
    """The token `label` lives in the SoftHSM2 store configured by `conf` (a path): opening it
    switches the loaded library to that store (see the module docstring)."""
    _STORES[label] = os.fspath(conf)


def set_home_store(conf: str | os.PathLike[str]) -> None:
    """The process's own SoftHSM2 store (unrouted labels) is `conf` from now on, also when the library
    was loaded before (with another configuration, or none): the next unrouted open switches to it."""
    with _MODULES_LOCK:
        for module in _MODULES.values():
            module.home_conf = os.fspath(conf)


def routed_labels(conf: str | os.PathLike[str]) -> set[str]:
    """The labels routed to the store configured by `conf`."""
    path = os.fspath(conf)
    return {label for label, c in _STORES.items() if c == path}


def load_module(path: str | None = None) -> _Module:
    resolved = module_path(path)
    with _MODULES_LOCK:
        module = _MODULES.get(resolved)
        if module is None:
            module = _MODULES[resolved] = _Module(resolved)
        return module


def token_present(label: str, module: str | None = None) -> bool:
    """Is a token with this label plugged in (for readiness reports)?"""
    try:
        load_module(module).find_token(label)
    except DomainError:
        return False
    return True


def _key_id(key_label: str) -> bytes:
    # CKA_ID pairs the private key, public key and certificate of one identity.
    return key_label.encode("utf-8")


def _open_session(token: pkcs11.Token, user_pin: str | None) -> Any:
    """A read-write session on `token`, logged in with `user_pin` when given. SoftHSM keeps a token's
    state in files that other processes using the same token rewrite; while they do, opening or logging
    in can fail with a generic error for a moment (eight flow runs signing with one chair's token did
    once): it is tried again after RESCAN_PAUSES. A refused PIN is never tried again (a real token
    counts failed logins). Raises: what python-pkcs11 raises, once the pauses are spent."""
    if user_pin is None:
        return _tried_again(lambda: token.open(rw=True), _GENERIC_ERRORS)
    return _tried_again(lambda: token.open(rw=True, user_pin=user_pin), _GENERIC_ERRORS)


def _tried_again(attempt: Callable[[], Any], errors: tuple[type[Exception], ...]) -> Any:
    """`attempt()`, tried again after each of RESCAN_PAUSES while it raises one of `errors` (a SoftHSM
    store another process is rewriting); the last failure is raised."""
    for pause in RESCAN_PAUSES:
        try:
            return attempt()
        except errors:
            if not pause:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable: RESCAN_PAUSES ends with 0")


class Token:
    """A logged-in session on the token called `label`; use as a context manager."""

    def __init__(self, label: str, pin: str | None = None, module: str | None = None) -> None:
        self.label = label
        self._pin = pin
        self._module_path = module
        self._module: _Module | None = None
        self._session: Any = None
        self._login_pin: str | None = None  # the PIN this session logged in with (None: it did not log in)
        self._failed = False  # a token error was seen: the session is never kept

    def __repr__(self) -> str:  # never shows the PIN
        return f"Token(label={self.label!r}, open={self._session is not None})"

    # -- session ---------------------------------------------------------------
    def open(self) -> Token:
        if self._session is not None:
            return self
        module = load_module(self._module_path)
        pin = resolve_pin(self.label, self._pin) if self._pin else None
        lock = _token_lock(self.label)
        lock.acquire()  # released in close(); reentrant for a nested session in the same thread
        try:
            self._open_locked(module, pin)
        except BaseException:
            lock.release()
            raise
        return self

    def _open_locked(self, module: _Module, pin: str | None) -> None:
        with self._mapped(), module.lock:  # the store must not switch between finding and opening
            kept = module.kept.pop(self.label, None)
            if kept is not None:
                if kept[1] == (pin or self._known_pin()) and (not _STORES or module.active_conf == _STORES.get(
                        self.label, module.home_conf)):
                    module.held.count = getattr(module.held, "count", 0) + 1
                    self._module, self._session, self._login_pin = module, kept[0], kept[1]
                    return
                module.kept[self.label] = kept
                module.drop_kept(self.label)  # another PIN (or store): it must log in afresh
            token = module.find_token(self.label)
            login_pin: str | None = None
            if module.sessions[self.label] > 0:
                # Login state is per process and token: another session of ours is
                # logged in, so this one is too (C_Login would say USER_ALREADY_LOGGED_IN).
                session = _open_session(token, None)
            else:
                # Ask for the PIN only once the token is there, and only if we must log in.
                login_pin = pin or resolve_pin(self.label, self._pin)
                session = _open_session(token, login_pin)
            module.sessions[self.label] += 1
            module.held.count = getattr(module.held, "count", 0) + 1
        self._module, self._session, self._login_pin = module, session, login_pin

    def _known_pin(self) -> str | None:
        """The PIN from the settings, never prompted for (a kept session is reused only for it)."""
        value = get_settings().token_pin(self.label)
        return _normal_pin(value) if value else None

    def close(self) -> None:
        session, module = self._session, self._module
        self._session = None
        if session is None or module is None:
            return
        try:
            with module.lock:
                module.held.count = max(getattr(module.held, "count", 1) - 1, 0)
                if _KEEP.is_set() and self._login_pin is not None and not self._failed \
                        and self.label not in module.kept:
                    module.kept[self.label] = (session, self._login_pin)  # still open and counted
                    return
                module.sessions[self.label] -= 1
                try:
                    session.close()
                except p11.PKCS11Error:
                    pass  # token already gone: nothing left to close
                module.free.notify_all()
        finally:
            _token_lock(self.label).release()

    def __enter__(self) -> Token:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _s(self) -> Any:
        if self._session is None:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"نشست توکن «{self.label}» باز نیست")
        return self._session

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        """Translate pkcs11 exceptions; `from None` keeps pkcs11 tracebacks away from people."""
        done = False
        try:
            yield
            done = True
        except DomainError:
            raise
        except _PIN_ERRORS as exc:
            raise DomainError(Reason.TOKEN_PIN_INVALID, f"توکن «{self.label}»",
                              error=type(exc).__name__) from None
        except p11.NoSuchKey:
            if not self._still_present():
                raise DomainError(Reason.TOKEN_NOT_FOUND, f"توکن «{self.label}» جدا شده است") from None
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"کلید موردنظر روی توکن «{self.label}» نیست") from None
        except _GENERIC_ERRORS as exc:
            if self._still_present():
                raise DomainError(Reason.INVALID_INPUT, f"توکن «{self.label}» این عمل را نپذیرفت",
                                  error=type(exc).__name__) from None
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"توکن «{self.label}» جدا شده است",
                              error=type(exc).__name__) from None
        except _GONE_ERRORS as exc:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"توکن «{self.label}» در دسترس نیست",
                              error=type(exc).__name__) from None
        except _INPUT_ERRORS as exc:
            raise DomainError(Reason.INVALID_INPUT, f"توکن «{self.label}» این عمل را نپذیرفت",
                              error=type(exc).__name__) from None
        except p11.PKCS11Error as exc:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"خطای توکن «{self.label}»",
                              error=type(exc).__name__) from None
        finally:
            if not done:
                self._failed = True  # never kept after an error (a removed token, a closed session)

    def _still_present(self) -> bool:
        module = self._module or load_module(self._module_path)
        with module.lock:
            return module._scan(self.label) is not None

    def _private(self, key_label: str) -> Any:
        return self._key(ObjectClass.PRIVATE_KEY, key_label)

    def _public(self, key_label: str) -> Any:
        return self._key(ObjectClass.PUBLIC_KEY, key_label)

    def _key(self, object_class: ObjectClass, key_label: str) -> Any:
        # As for the token itself (find_token): SoftHSM's file store can hide a token's objects for a
        # moment while another process writes the same store (eight flow runs at once did once: a
        # member's key read as missing, its token as detached); look again before saying it is not there.
        return _tried_again(lambda: self._s().get_key(object_class=object_class, label=key_label), (p11.NoSuchKey,))

    # -- keys ------------------------------------------------------------------
    def has_key(self, key_label: str) -> bool:
        with self._mapped():
            found = list(self._s().get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                                Attribute.LABEL: key_label}))
        return bool(found)

    def key_labels(self) -> list[str]:
        """Labels of the private keys on the token, sorted."""
        with self._mapped():
            keys = self._s().get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            return sorted(str(k.label) for k in keys)

    def generate_keypair(self, key_label: str) -> rsa.RSAPublicKey:
        """RSA key pair on the token; the private half is sensitive and never extractable."""
        if self.has_key(key_label):
            raise DomainError(Reason.INVALID_INPUT, f"کلید «{key_label}» روی توکن «{self.label}» از قبل هست")
        with self._mapped():
            pub, _priv = self._s().generate_keypair(
                KeyType.RSA, RSA_BITS, label=key_label, id=_key_id(key_label), store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY | MechanismFlag.ENCRYPT
                | MechanismFlag.DECRYPT,
                private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                                  Attribute.PRIVATE: True, Attribute.UNWRAP: False},
                public_template={Attribute.WRAP: False},
            )
            return self._to_public_key(pub)

    @staticmethod
    def _to_public_key(pub: Any) -> rsa.RSAPublicKey:
        n = int.from_bytes(pub[Attribute.MODULUS], "big")
        e = int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()

    def delete_key(self, key_label: str) -> None:
        """Destroy every object labelled `key_label` (key pair, certificate) on the token; none is fine."""
        with self._mapped():
            for obj in list(self._s().get_objects({Attribute.LABEL: key_label})):
                obj.destroy()

    def public_key(self, key_label: str) -> rsa.RSAPublicKey:
        with self._mapped():
            return self._to_public_key(self._public(key_label))

    def sign(self, key_label: str, data: bytes, hash_alg: str = "sha256") -> bytes:
        """RSASSA-PKCS1-v1_5 over `data`; the token computes the hash."""
        mechanism = _SIGN_MECHANISMS.get(hash_alg.lower())
        if mechanism is None:
            raise DomainError(Reason.INVALID_INPUT, f"الگوریتم چکیده پشتیبانی نمی‌شود: {hash_alg}")
        with self._mapped():
            return bytes(self._private(key_label).sign(data, mechanism=mechanism))

    def decrypt(self, key_label: str, ciphertext: bytes, mechanism_name: str) -> bytes:
        oaep = OAEP_MECHANISMS.get(mechanism_name)
        if oaep is None:
            raise DomainError(Reason.INVALID_INPUT, f"سازوکار رمزگشایی مجاز نیست: {mechanism_name}")
        with self._mapped():
            return bytes(self._private(key_label).decrypt(
                ciphertext, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=oaep.param))

    # -- certificates ----------------------------------------------------------
    def _certificate_objects(self, key_label: str) -> list[Any]:
        return list(self._s().get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                           Attribute.LABEL: key_label}))

    def store_certificate(self, key_label: str, der: bytes) -> None:
        """Store (or replace, on renewal) the certificate that belongs to `key_label`."""
        from cryptography import x509

        subject = x509.load_der_x509_certificate(der).subject.public_bytes()
        with self._mapped():
            old = self._certificate_objects(key_label)
            self._s().create_object({
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: key_label,
                Attribute.ID: _key_id(key_label),
                Attribute.SUBJECT: subject,
                Attribute.VALUE: der,
            })
            # The new certificate is stored before the old one goes, so a failure never
            # leaves the key without a certificate.
            for obj in old:
                obj.destroy()

    def certificate(self, key_label: str) -> bytes | None:
        with self._mapped():
            found = self._certificate_objects(key_label)
            return bytes(found[-1][Attribute.VALUE]) if found else None

    def change_pin(self, old_pin: str, new_pin: str) -> None:
        """Change the user PIN of the open token (C_SetPIN in the logged-in session). Neither PIN is
        logged or put in an error.

        Raises: TOKEN_PIN_INVALID when `old_pin` is wrong or `new_pin` is out of the token's range;
        TOKEN_NOT_FOUND when the session is not open or the token is gone."""
        with self._mapped():
            self._s().set_pin(_normal_pin(old_pin), _normal_pin(new_pin))

    def mechanisms(self) -> frozenset[str]:
        with self._mapped():
            token = self._s().token
            return frozenset(m.name for m in token.slot.get_mechanisms() if hasattr(m, "name"))
