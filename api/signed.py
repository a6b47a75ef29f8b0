"""Every state-changing request is itself a document signed on the actor's token and verified at
receipt (issue 11 part 2; "Stations and trust"): the body is a SignedDocument (signing.xmldsig) around
the canonical document of the action, sent as `application/xml`.

    @router.post("/v1/pricelists/{list_id}/approval", openapi_extra=SIGNED_XML_BODY, ...)
    async def approve(request: Request, actor: Annotated[Actor, Depends(require_role("deputy"))]):
        doc = await signed_request(request, "PriceListApproval")
        ...  # doc.root, doc.xml (as received), doc.sha256, doc.received_at, doc.check

`signed_request` reads the body streamed (api.streaming, within the app's body limit), takes the
engine's clock when it has arrived whole, and verifies it there (services.auth.verify_actor_document):
the last signature must be by the session's person, claiming the session's role and unit (or one of
`required`), with chain, CA-signed CRL, signing time within the policy's SIGNING_TIME_SKEW and the
registry role at that time. Verification runs in a worker thread (it reads the store).
"""
from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import actor_of
from api.streaming import spooled
from services.auth import VerifiedDocument, verify_actor_document

__all__ = ["SIGNED_XML_BODY", "VerifiedDocument", "signed_request"]

# `openapi_extra` of a route whose body is a signed XML document.
SIGNED_XML_BODY = {
    "requestBody": {
        "required": True,
        "description": "سند XML امضاشده با توکن شخص (SignedDocument) — an XML document signed on the person's "
                       "token (SignedDocument, XMLDSig enveloped)",
        "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def signed_request(request: Request, kind: str, *, required: list[tuple[str, str]] | None = None,
                         limit: int | None = None) -> VerifiedDocument:
    """The request's body verified at receipt as a document of `kind` (root local name, or
    "{namespace}Name") signed last by the session's person as one of `required` (role, unit) pairs,
    by default the session's own (role, unit). `limit`: the largest body in bytes (default: the app's).

    Raises: NOT_AUTHENTICATED (no valid session, unsigned, signer not the session's person);
    NOT_AUTHORISED (a role the session or the registry does not give); SIGNATURE_INVALID,
    CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, SIGNING_TIME_SKEW; MALFORMED_XML; INVALID_INPUT
    (another kind, empty body); REQUEST_TOO_LARGE. Rule: issue 11 part 2; "Stations and trust"; R05."""
    actor = actor_of(request)
    deps = get_deps(request)
    async with spooled(request, limit=limit or request.app.state.max_body_bytes) as body:
        xml = body.read_all()
    received_at = deps.clock.now()
    return await run_in_threadpool(verify_actor_document, deps, xml, kind, actor.national_id, received_at,
                                   required or [(actor.role, actor.unit)])
