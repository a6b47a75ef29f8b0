"""Signing throughput through our code vs raw OpenSSL RSA-2048, measured in the same run.

    .venv/bin/python bench/bench_signing.py [--seconds 3]

Our numbers go through a real SoftHSM2 token: PKCS#11 session, on-token RSA-2048
PKCS#1 v1.5 signature, signxml canonicalisation and XAdES-style properties; verification
is the full five-step verify_document (strict XMLDSig profile, chain, validity,
revocation, role). OpenSSL's `speed` measures the bare RSA operation, so the ratio shows
what the XML and PKCS#11 layers cost. Total runtime stays well under 60 s.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import etree

from domain.clock import SimulatedClock
from signing.softhsm import SoftHsm

DOC = ("<Minutes xmlns='urn:tehran-municipality:eproc:minutes:1' tender='T-1403-0042'>"
       "<Title>صورتجلسهٔ کمیسیون ماده ۱۳</Title>"
       + "".join(f"<Bid id='B-{i}' price='{12_500_000_000 + i * 1_000_000}' outcome='valid'/>" for i in range(20))
       + "</Minutes>").encode("utf-8")


def rate(fn, seconds: float) -> tuple[float, int]:
    fn()  # warm-up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed, count


def openssl_speed(seconds: int) -> tuple[float, float] | None:
    if shutil.which("openssl") is None:
        return None
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "rsa2048"],
                         capture_output=True, text=True, check=False).stdout
    match = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.MULTILINE)
    return (float(match.group(1)), float(match.group(2))) if match else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-signing-"))
    try:
        hsm = SoftHsm(work / "softhsm")  # before the PKCS#11 library is loaded
        from domain.xmlsafe import parse_untrusted
        from signing.ca import MunicipalCA
        from signing.token import Token
        from signing.verify import TrustStore, verify_document
        from signing.xmldsig import sign_document

        t0 = datetime(2024, 5, 1, 6, 30, tzinfo=timezone.utc)
        clock = SimulatedClock(t0)
        ca = MunicipalCA.init(work / "ca", "مرجع آزمایشی", clock, key_size=2048)
        hsm.init_token("bench", "246810", "13579111")
        with Token("bench", pin="246810") as tok:
            cert = ca.enroll("0013542419", "امضاکنندهٔ آزمایشی", tok, "sign", 365, clock)
        clock.advance(timedelta(hours=1))
        trust = TrustStore([ca.certificate], ca.registry.revocations())

        with Token("bench", pin="246810") as tok:
            raw_sign, _ = rate(lambda: tok.sign("sign", DOC), args.seconds)
            xml_sign, _ = rate(lambda: sign_document(parse_untrusted(DOC), tok, "sign", cert, clock,
                                                     "chair@district-2"), args.seconds)
            signed = etree.tostring(sign_document(parse_untrusted(DOC), tok, "sign", cert, clock,
                                                  "chair@district-2"))
        checks = verify_document(signed, trust, lambda *a: True)
        assert checks[0].valid, checks
        xml_verify, _ = rate(lambda: verify_document(signed, trust, lambda *a: True), args.seconds)
        ossl = openssl_speed(2)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'operation':<44}{'ours/s':>10}{'openssl/s':>12}{'ratio':>8}")
    rows = [("sign: Token.sign (PKCS#11, SoftHSM)", raw_sign, ossl[0] if ossl else None),
            ("sign: sign_document (XMLDSig via token)", xml_sign, ossl[0] if ossl else None),
            ("verify: verify_document (5 checks)", xml_verify, ossl[1] if ossl else None)]
    for name, ours, ref in rows:
        ratio = f"{ours / ref:8.3f}" if ref else f"{'n/a':>8}"
        print(f"{name:<44}{ours:>10.1f}{(ref or 0):>12.1f}{ratio}")
    if ossl is None:
        print("openssl speed unavailable: ratios not computed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
