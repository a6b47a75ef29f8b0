"""Verification by a standard outside tool (xmlsec1), not by our own code: what an auditor runs."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from domain.xmlsafe import parse_untrusted
from signing.xmldsig import signature_elements, xmlsec1_verify_command


def xmlsec1_available() -> bool:
    return shutil.which("xmlsec1") is not None


def verify_all_with_xmlsec1(xml: bytes, ca_pem: bytes) -> list[tuple[int, bool, str]]:
    """Run xmlsec1 once per signature; (index, ok, xmlsec1's own output) for each."""
    results = []
    with tempfile.TemporaryDirectory() as d:
        doc_path, ca_path = Path(d) / "doc.xml", Path(d) / "ca.pem"
        doc_path.write_bytes(xml)
        ca_path.write_bytes(ca_pem)
        count = len(signature_elements(parse_untrusted(xml)))
        for i in range(count):
            proc = subprocess.run(xmlsec1_verify_command(str(doc_path), str(ca_path), i),
                                  capture_output=True, text=True, timeout=60)
            results.append((i, proc.returncode == 0, (proc.stdout + proc.stderr).strip()))
    return results
