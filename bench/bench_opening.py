"""Cost of sealing and opening bids through sealing/ against raw AES-256-GCM on the same bytes.

    .venv/bin/python bench/bench_opening.py [--bids N] [--size-mb M]

Each bid carries M MB of random content split evenly over envelopes A, B and C. Per bid the run
seals, stores (to/from bytes), and opens every envelope through sealing/, and encrypts and
decrypts the same plaintext with a bare AESGCM key as the baseline. Bids are processed one at a
time so memory stays at a few bids whatever N is.
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from sealing.envelopes import SealedBid, envelope_ad, open_envelope, seal_bid  # noqa: E402

LETTERS = ("A", "B", "C")


def run(bids: int, size_mb: float) -> dict[str, float]:
    per_envelope = max(1, int(size_mb * 1024 * 1024) // len(LETTERS))
    opening_key = X25519PrivateKey.generate()
    pub_b64 = base64.b64encode(opening_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    t = dict.fromkeys(("seal", "raw_encrypt", "store", "open", "raw_decrypt"), 0.0)
    for i in range(bids):
        bidder = f"bidder-{i}"
        plain = {letter: os.urandom(per_envelope) for letter in LETTERS}

        start = time.perf_counter()
        bid = seal_bid("T-bench", bidder, plain, pub_b64)
        t["seal"] += time.perf_counter() - start

        raw_key = AESGCM.generate_key(bit_length=256)
        raw = {}
        start = time.perf_counter()
        for letter, data in plain.items():
            nonce = os.urandom(12)
            raw[letter] = (nonce, AESGCM(raw_key).encrypt(nonce, data, envelope_ad("T-bench", bidder, letter)))
        t["raw_encrypt"] += time.perf_counter() - start

        start = time.perf_counter()
        stored = SealedBid.from_bytes(bid.to_bytes())
        t["store"] += time.perf_counter() - start

        receipt = bid.hashes()
        start = time.perf_counter()
        opened = {letter: open_envelope(stored, letter, opening_key, receipt[letter]) for letter in LETTERS}
        t["open"] += time.perf_counter() - start

        start = time.perf_counter()
        for letter, (nonce, ct) in raw.items():
            AESGCM(raw_key).decrypt(nonce, ct, envelope_ad("T-bench", bidder, letter))
        t["raw_decrypt"] += time.perf_counter() - start

        if opened != plain:
            raise SystemExit(f"bid {i}: opened content differs from what was sealed")
    return t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=200)
    parser.add_argument("--size-mb", type=float, default=1.0, help="content per bid, split over A/B/C")
    args = parser.parse_args(argv)
    if args.bids < 1 or args.size_mb <= 0:
        parser.error("--bids and --size-mb must be positive")

    t = run(args.bids, args.size_mb)
    total_mb = args.bids * args.size_mb
    print(f"{args.bids} bids x {args.size_mb:g} MB ({total_mb:g} MB), envelopes A/B/C, all opened and verified")
    print(f"{'stage':<28}{'sealing/ s':>12}{'raw GCM s':>12}{'ratio':>8}{'MB/s':>10}")
    rows = [("seal (encrypt+wrap+sha256)", t["seal"], t["raw_encrypt"]),
            ("open (sha256+unwrap+decrypt)", t["open"], t["raw_decrypt"]),
            ("store blob (to/from bytes)", t["store"], None)]
    for name, ours, raw in rows:
        ratio = f"{ours / raw:.2f}" if raw else "-"
        raw_s = f"{raw:.3f}" if raw is not None else "-"
        print(f"{name:<28}{ours:>12.3f}{raw_s:>12}{ratio:>8}{total_mb / ours if ours else 0:>10.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
