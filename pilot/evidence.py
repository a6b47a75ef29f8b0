"""The evidence bundle of `eproc pilot --out DIR`: standard formats outside tools check without us."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

VERIFY_MD = """# بررسی زنجیرهٔ ممیزی — How to check the audit chain

Each line of `log.jsonl` is one entry. Its `hash` is SHA-256 over the UTF-8 JSON array
`[prev_hash, at, actor, action, entity, entity_id, reason, payload_json]` serialised with
`ensure_ascii=False` and separators `(",", ":")`; `prev_hash` of the first entry is 64 zeros and
every later entry's `prev_hash` is the previous entry's `hash`. Any changed, deleted or reordered
line breaks the chain at that line.

    python3 - <<'PY'
    import hashlib, json
    prev = "0" * 64
    for n, line in enumerate(open("log.jsonl", encoding="utf-8"), 1):
        e = json.loads(line)
        body = json.dumps([e["prev_hash"], e["at"], e["actor"], e["action"], e["entity"], e["entity_id"],
                           e["reason"], e["payload_json"]], ensure_ascii=False, separators=(",", ":"))
        assert e["prev_hash"] == prev and hashlib.sha256(body.encode()).hexdigest() == e["hash"], n
        prev = e["hash"]
    print("ok", n)
    PY

Signed documents (`minutes/*.xml`, `receipts/*.xml`) verify with xmlsec1, one signature at a time:

    xmlsec1 --verify --enabled-key-data x509 --enabled-reference-uris same-doc \\
      --id-attr:Id urn:tehran-municipality:eproc:signed-document:1:Content \\
      --trusted-pem ../trust/ca.pem --verification-gmt-time "<signing time, UTC>" \\
      --node-xpath "(/*/*[local-name()='Signature'])[1]" article13.xml

Revocation is checked against `trust/crl.pem` (`openssl crl -in trust/crl.pem -noout -text`).

## نقطه‌های وارسی — Checkpoints of the chain head

A chain recomputed from scratch, or cut short, still passes the check above. `checkpoints/*.xml`
(one file per checkpoint, named by its sequence number) are the engine's signed statements of the
chain's head, taken at every notice, receipt and final minutes (and hourly in production) and
published on the announcement portal. Each holds `<Head seq="..." hash="..."/>` and one XMLDSig
signature by the transactions system's token. From this directory (`audit/`), check the signature
with xmlsec1 against the CA, at the signing time (`SigningTime` in the signature, the same as the
checkpoint's `TakenAt utc`):

    xmlsec1 --verify --enabled-key-data x509 --enabled-reference-uris same-doc \
      --id-attr:Id urn:tehran-municipality:eproc:signed-document:1:Content \
      --trusted-pem ../trust/ca.pem --verification-gmt-time "<signing time, UTC, YYYY-MM-DD HH:MM:SS>" \
      --node-xpath "(/*/*[local-name()='Signature'])[1]" checkpoints/0000000042.xml

xmlsec1 checks the signature and the certificate chain; the signer must also be the holder of the
`transactions_system` role (the certificate's serialNumber is the national ID) and not revoked in
`trust/crl.pem`. Then compare each signed head with `log.jsonl`: the entry with that `seq` must have
that `hash`, and the log must reach the newest checkpoint (otherwise it was rewritten or truncated):

    python3 - <<'PY'
    import json, xml.etree.ElementTree as ET
    from pathlib import Path
    SD, CP = "{urn:tehran-municipality:eproc:signed-document:1}", "{urn:tehran:eproc:audit-checkpoint:1}"
    log = {e["seq"]: e["hash"] for e in map(json.loads, open("log.jsonl", encoding="utf-8"))}
    bad = 0
    for path in sorted(Path("checkpoints").glob("*.xml")):
        head = ET.parse(path).getroot().find(f"{SD}Content/{CP}Checkpoint/{CP}Body/{CP}Head")
        seq, digest = int(head.get("seq")), head.get("hash")
        verdict = "ok" if log.get(seq) == digest else "TRUNCATED" if seq > max(log, default=0) else "REWRITTEN"
        bad += verdict != "ok"
        print(path.name, seq, verdict)
    raise SystemExit(1 if bad else 0)
    PY

Against the live database, `eproc audit verify --checkpoints audit/checkpoints --ca trust/ca.pem`
does all of it (signature, role, revocation, rewrite, truncation) and exits 2 on a mismatch.
"""


def write_bundle(world, out: Path, report: dict) -> None:
    from pilot.scenario import tender_id_of

    out.mkdir(parents=True, exist_ok=True)
    tender_id = tender_id_of(world.scenario)
    trust = out / "trust"
    trust.mkdir(exist_ok=True)
    (trust / "ca.pem").write_bytes(world.ca.ca_certificate_pem())
    world.ca.crl(world.clock)
    shutil.copyfile(world.ca.crl_path, trust / "crl.pem")
    minutes_dir = out / "minutes"
    receipts = out / "receipts"
    minutes_dir.mkdir(exist_ok=True)
    receipts.mkdir(exist_ok=True)
    # The bundle's log ends at a signed head: a checkpoint of the chain as exported.
    from services.checkpoints import checkpoint, stored_checkpoints

    checkpoint(world.deps, "evidence")
    with world.deps.uow() as uow:
        for row in uow.minutes.all_for(tender_id):
            if row.final:
                (minutes_dir / f"{row.kind}.xml").write_bytes(row.xml)
        a13 = uow.minutes.latest(tender_id, "article13")
        for bid in uow.bids.all_for(tender_id):
            if bid.receipt_xml and not bid.superseded:
                (receipts / f"{bid.bidder_ref}.xml").write_bytes(bid.receipt_xml)
        audit = out / "audit"
        audit.mkdir(exist_ok=True)
        with (audit / "log.jsonl").open("w", encoding="utf-8") as fh:
            uow.audit.export_jsonl(fh)
        chain = uow.audit.verify()
    if a13 is not None and a13.final:
        write_printables(world, minutes_dir, audit / "log.jsonl")
    (audit / "VERIFY.md").write_text(VERIFY_MD, encoding="utf-8")
    checkpoints = audit / "checkpoints"
    checkpoints.mkdir(exist_ok=True)
    for cp in stored_checkpoints(world.deps):
        (checkpoints / f"{cp.seq:010d}.xml").write_bytes(cp.xml)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    publisher = world.stubs.get("publisher")
    releases = list(publisher.releases()) if publisher is not None else []
    if releases:  # a rehearsal that ends without a published contract has no release package
        ocds = out / "ocds"
        ocds.mkdir(exist_ok=True)
        publisher.export_package(ocds / "release-package.json", releases)
    if not chain.ok:
        raise RuntimeError(f"audit chain broken at {chain.first_broken_seq}")


def printing_context(world, audit_log: Path, action: str, original: str):  # noqa: ANN201 - render.Context
    """What the printable documents show beside the signed bytes: unit names from the policy, the
    scenario's names for bidder ids and national IDs, and each signature's receipt time from the
    exported audit log (entries `<action>`)."""
    from render.context import Context
    from render.verification import receipt_times

    sc = world.scenario
    names = {b.id: b.name for b in sc.bidders if getattr(b, "name", None)}
    names.update({b.national_id: b.name for b in sc.bidders if getattr(b, "name", None)})
    names.update({mm.national_id: mm.name for mm in sc.commission if mm.name})
    with audit_log.open(encoding="utf-8") as fh:
        entries = [json.loads(line) for line in fh if line.strip()]
    return Context(units={u.id: u.name for u in world.policy.units}, names=names,
                   received=receipt_times(entries, action), original=original)


def write_printables(world, minutes_dir: Path, audit_log: Path) -> None:
    """`minutes/<kind>.html` and `.pdf` beside each final signed `minutes/<kind>.xml` (Article 13,
    Article 18): rendered from the signed file's bytes, which stay as they are (issue 16)."""
    from render import render_html, render_pdf

    for xml_path in sorted(minutes_dir.glob("article1[38]*.xml")):
        kind = xml_path.stem
        action = f"{kind}.signed"
        ctx = printing_context(world, audit_log, action, f"minutes/{xml_path.name}")
        page = render_html(xml_path.read_bytes(), ctx)
        xml_path.with_suffix(".html").write_text(page.html, encoding="utf-8")
        xml_path.with_suffix(".pdf").write_bytes(render_pdf(page.html))
