"""The signer facts of a sitting's stored documents (the bidders' signed manifests), read in the
sitting's own units of work and kept for the whole sitting (R05, R08; "Stations and trust").

Verifying a stored document again at a sitting judges its signer against the registry (the role at
the receipt time) and the CA-signed CRLs recorded in the store (services.signers.trust_store). Read
one signature at a time, that is two units of work per signature. Here they are read in the unit of
work that already reads the envelopes, once per certificate serial and once per (person, role, unit,
Tehran day) for the whole sitting: services.signers.holds_role answers by the Tehran day of the time
it is given, so two receipt times of one day get the same answer. The answers are handed to
verification as services.signers.SignerFacts, which falls back to the store for anything not read
here. Verification judges exactly as before; only the moment the store is read differs (at the start
of each batch instead of at each signature), as at submission (services.tender.submission).
"""
from __future__ import annotations

from datetime import date, datetime

from domain.persian import to_tehran
from domain.reasons import DomainError
from domain.xmlsafe import parse_untrusted
from services.certificate_registry import revocation_records
from services.signers import SignerFacts, holds_role
from signing.verify import split_signer_ref
from signing.xmldsig import signature_elements, signature_info
from store.uow import UnitOfWork


class SittingSignerFacts:
    """The registry's and the recorded CRLs' answers about the signers of a sitting's documents,
    gathered as they are first needed and kept for the sitting (one instance per sitting)."""

    def __init__(self) -> None:
        self._crls: dict[int, list[bytes]] = {}
        self._roles: dict[tuple[str, str, str, date], bool] = {}

    def facts(self, uow: UnitOfWork, signed_xml: bytes, at: datetime) -> SignerFacts | None:
        """The facts for verifying `signed_xml` (a signed document's bytes) as received at `at` (aware
        UTC), read inside `uow` where not known yet: the role each readable signature claims, at `at`,
        and the recorded CRLs of each signer certificate's serial (services.signers.read_signer_facts
        reads the same). None when the bytes do not parse: verification then refuses them as before.

        Raises: nothing."""
        try:
            doc = parse_untrusted(signed_xml)
        except DomainError:
            return None
        roles: dict[tuple[str, str, str], bool] = {}
        crls: dict[int, list[bytes]] = {}
        day = to_tehran(at).date()
        for i, sig in enumerate(signature_elements(doc)):
            try:
                info = signature_info(sig, i)
            except DomainError:
                continue
            role, unit = split_signer_ref(info.signer_ref)
            if role:
                key = (info.national_id, role, unit, day)
                if key not in self._roles:
                    self._roles[key] = holds_role(uow, info.national_id, role, unit, at)
                roles[(info.national_id, role, unit)] = self._roles[key]
            if info.serial not in self._crls:
                self._crls[info.serial] = revocation_records(uow, info.serial)
            crls[info.serial] = self._crls[info.serial]
        return SignerFacts(at, roles, crls)
