"""The bidder's side, as `eproc bid seal` does it: envelopes sealed to the tender's opening key
and the submission manifest signed with the bidder's own token. The engine never sees plaintext."""
from __future__ import annotations

from lxml import etree

from domain.clock import Clock
from domain.persian import format_jalali_date
from sealing import content as sc
from sealing.envelopes import SealedBid, manifest_xml, seal_bid
from services.signers import COMPANY_SIGNATORY, Signer


def envelope_contents(guarantee, documents, grade, technical_score, price) -> dict[str, bytes]:
    a = sc.envelope_from_dict("A", {"guarantee": None if guarantee is None else {
        "amount_rial": guarantee.amount_rial, "valid_until": format_jalali_date(guarantee.valid_until)}})
    b = sc.envelope_from_dict("B", {"documents": list(documents), "grade": grade,
                                    "technical_score": technical_score})
    c = (sc.EnvelopeC.by_coefficient(price.coefficient) if price.coefficient is not None
         else sc.EnvelopeC.by_amount(price.amount_rial))
    return {"A": sc.encode_envelope(a), "B": sc.encode_envelope(b), "C": sc.encode_envelope(c)}


def seal_and_sign(tender_id: str, bidder_id: str, company_id: str, contents: dict[str, bytes],
                  opening_public_key_b64: str, signer: Signer, clock: Clock) -> tuple[SealedBid, bytes]:
    sealed = seal_bid(tender_id, bidder_id, contents, opening_public_key_b64)
    manifest = manifest_xml(sealed, clock.now())
    signed = signer.sign(manifest, clock, COMPANY_SIGNATORY, company_id)
    return sealed, etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
