"""R08: the sitting reads each envelope of a stored bid on its own (the header, then only that
envelope's ciphertext, ahead of the decryption in a background thread) and judges it exactly as when
it read the whole blob: a blob longer than its header says is refused as unreadable content at A, an
envelope changed in the store is refused as tampered at that envelope only, and every other bid opens.
Each change is made the way an insider would (raw SQL on the engine's SQLite file), then the normal
flow."""
from __future__ import annotations

import sqlite3

from tests.e2e.pilot_harness import open_with_members, world_with_bids


def _blob(world, tender_id: str, bidder: str) -> tuple[int, bytes]:
    with sqlite3.connect(world.base_dir / "eproc.db") as db:
        return db.execute("SELECT id, sealed FROM bids WHERE tender_id=? AND bidder_ref=? AND refused_reason IS NULL",
                          (tender_id, bidder)).fetchone()


def _store(world, bid_id: int, blob: bytes) -> None:
    with sqlite3.connect(world.base_dir / "eproc.db") as db:
        db.execute("UPDATE bids SET sealed=? WHERE id=?", (blob, bid_id))


def test_r08_each_envelope_read_on_its_own_is_judged_as_the_whole_blob(tmp_path):
    from sealing.envelopes import BlobHeader, SealedBid

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    # b4: one byte appended after the last envelope (SealedBid.from_bytes refuses the blob).
    b4_id, b4_blob = _blob(world, tender_id, "b4")
    _store(world, b4_id, b4_blob + b"x")
    # b3: one byte of its envelope C flipped (its A and B still open).
    b3_id, b3_blob = _blob(world, tender_id, "b3")
    start, length = BlobHeader.parse(b3_blob).span("C")
    flipped = bytearray(b3_blob)
    flipped[start + length // 2] ^= 0x01
    _store(world, b3_id, bytes(flipped))
    assert SealedBid.from_bytes(bytes(flipped)).envelope("C").ciphertext != SealedBid.from_bytes(b3_blob) \
        .envelope("C").ciphertext

    outcome = open_with_members(world, scenario)
    bids = outcome.evaluation.bids
    assert bids["b4"].a.status.value == "rejected" and bids["b4"].reason.value == "INVALID_INPUT"
    assert bids["b4"].b.status.value == bids["b4"].c.status.value == "returned_unopened"
    assert bids["b3"].a.status.value == "accepted" and bids["b3"].b.status.value == "accepted"
    assert bids["b3"].reason.value == "ENVELOPE_TAMPERED"
    clean_world, _ = world_with_bids(tmp_path / "untouched")  # the same bids, nothing changed in the store
    clean = open_with_members(clean_world, scenario).evaluation.bids
    others = [b for b in bids if b not in ("b3", "b4")]
    assert others and all((bids[b].a, bids[b].b) == (clean[b].a, clean[b].b) for b in others)  # C ranks all bids
    assert clean["b4"].a.status.value == clean["b3"].c.status.value == "accepted"
    with sqlite3.connect(world.base_dir / "eproc.db") as db:
        opened = db.execute("SELECT payload_json FROM audit_log WHERE action='envelope.opened' AND entity_id=?",
                            (tender_id,)).fetchall()
    assert not any('"bidder":"b4"' in p for (p,) in opened)  # nothing of b4 was decrypted
    assert any('"bidder":"b3","envelope":"B"' in p for (p,) in opened)
    assert not any('"bidder":"b3","envelope":"C"' in p for (p,) in opened)
