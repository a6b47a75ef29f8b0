"""The bidder's side, as `eproc bid seal` does it: the bid's own opening key dealt to the tender's
seats, the envelopes sealed to it and the submission manifest signed with the bidder's own token.
The engine never sees plaintext, nor any key that opens it."""
from __future__ import annotations

from lxml import etree

from domain.clock import Clock
from domain.persian import format_jalali_date
from sealing import content as sc
from sealing.envelopes import SealedBid, manifest_xml, seal_dealt
from sealing.opening_key import OpeningSeats
from services.signers import COMPANY_SIGNATORY, CertKeyWrapper, Signer


def envelope_contents(guarantee, documents, grade, technical_score, price) -> dict[str, bytes]:
    a = sc.envelope_from_dict("A", {"guarantee": None if guarantee is None else {
        "amount_rial": guarantee.amount_rial, "valid_until": format_jalali_date(guarantee.valid_until)}})
    b = sc.envelope_from_dict("B", {"documents": list(documents), "grade": grade,
                                    "technical_score": technical_score})
    c = (sc.EnvelopeC.by_coefficient(price.coefficient) if price.coefficient is not None
         else sc.EnvelopeC.by_amount(price.amount_rial))
    return {"A": sc.encode_envelope(a), "B": sc.encode_envelope(b), "C": sc.encode_envelope(c)}


def seal_and_sign(tender_id: str, bidder_id: str, company_id: str, contents: dict[str, bytes],
                  seats: OpeningSeats, signer: Signer, clock: Clock) -> tuple[SealedBid, bytes]:
    """For harnesses that announce in-process (the stack tests, benchmarks): `seats` as the engine
    stored them (TenderView.seats), which is what the signed notice states."""
    sealed = seal_dealt(tender_id, bidder_id, contents, seats.voting, seats.security, seats.threshold,
                        CertKeyWrapper.from_der(seats.certificates))
    manifest = manifest_xml(sealed, clock.now())
    signed = signer.sign(manifest, clock, COMPANY_SIGNATORY, company_id)
    return sealed, etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
