"""R06: an accepted XML document means one thing to every reader.

Signatures are over canonical XML without comments, so a comment or processing instruction put
inside signed text leaves the signature valid while `.text` readers see a truncated title or
formula: such documents are refused. Only UTF-8 is accepted, and a parser error is a reason code
(MALFORMED_XML), never an lxml exception."""
from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from domain.clock import SimulatedClock
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from signing import xmldsig
from signing.verify import TrustStore, verify_document

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2021, 7, 1, 6, 30, tzinfo=timezone.utc)
TITLE = "بهسازی آسفالت معابر ناحیه ۳"
FORMULA = "0.8 * average + 0.2 * estimate"


class SoftwareToken:
    """Stands in for a PKCS#11 token (signing.token.Token): sign() and public_key() only."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    def public_key(self, label: str) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def sign(self, label: str, data: bytes, hash_name: str) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), {"sha256": hashes.SHA256()}[hash_name])


def _ca_and_signer() -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(T0 - timedelta(days=1)).not_valid_after(T0 + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, "5260181591"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "chair")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(T0 - timedelta(days=1)).not_valid_after(T0 + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return ca, leaf, key


@pytest.fixture(scope="module")
def signed_notice() -> tuple[bytes, x509.Certificate]:
    ca, leaf, key = _ca_and_signer()
    doc = parse_untrusted(f"<Notice xmlns='urn:test'><Title>{TITLE}</Title>"
                          f"<Formula>{FORMULA}</Formula></Notice>".encode())
    signed = xmldsig.sign_document(doc, SoftwareToken(key), "sign", leaf, SimulatedClock(T0), "chair@district-12")
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8"), ca


def _split(xml: bytes, text: str, at: int, insert: str) -> bytes:
    """`text` in `xml` with `insert` (a comment or processing instruction) put inside it."""
    whole = text.encode()
    head = text[:at].encode()
    return xml.replace(whole, head + insert.encode() + whole[len(head):])


@pytest.mark.parametrize(("text", "at", "insert"), [
    (TITLE, len("بهسازی "), "<!-- the rest -->"),
    (FORMULA, len("0.8 * average"), "<?note x?>"),
], ids=["title-comment", "formula-pi"])
def test_r06_comment_or_pi_inside_signed_text_is_refused(signed_notice, text, at, insert):
    xml, ca = signed_notice
    trust = TrustStore([ca])
    assert [c.reason for c in verify_document(xml, trust, lambda *a: True)] == [None]
    tampered = _split(xml, text, at, insert)
    # What a verifier hashes is unchanged (C14N without comments and with the text re-joined)...
    content = etree.fromstring(tampered).find(f"{{{xmldsig.SD_NS}}}Content")
    assert "".join(content.itertext()) == "".join(etree.fromstring(xml).find(f"{{{xmldsig.SD_NS}}}Content").itertext())
    # ...while a reader of .text sees another title or formula.
    assert text not in [el.text for el in content.iter() if isinstance(el.tag, str)]
    with pytest.raises(DomainError) as err:
        verify_document(tampered, trust, lambda *a: True)
    assert err.value.reason is Reason.MALFORMED_XML
    with pytest.raises(DomainError) as err:
        parse_untrusted(tampered)
    assert err.value.reason is Reason.MALFORMED_XML


@pytest.mark.parametrize("data", [
    b"<?xml-stylesheet href='x.xsl'?><a/>",
    b"<a/><!-- after the root -->",
    b"<!-- before --><a/>",
    b"<a><b>x<?pi?></b></a>",
], ids=["pi-before", "comment-after", "comment-before", "pi-inside"])
def test_r06_comments_and_pis_anywhere_are_refused(data):
    with pytest.raises(DomainError) as err:
        parse_untrusted(data)
    assert err.value.reason is Reason.MALFORMED_XML


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0" encoding="ISO-8859-1"?><a>plain ascii</a>',
    b"<?xml version='1.0' encoding='windows-1256'?><a/>",
    "<a>سلام</a>".encode("utf-16"),
    "<a>سلام</a>".encode("cp1256"),
    b"<a>\xc0\xaf</a>",  # an overlong encoding of "/"
], ids=["latin1-declared", "cp1256-declared", "utf16", "cp1256-bytes", "overlong"])
def test_r06_only_utf8_is_accepted(data):
    with pytest.raises(DomainError) as err:
        parse_untrusted(data)
    assert err.value.reason is Reason.MALFORMED_XML


def test_r06_utf8_with_or_without_declaration_is_read_exactly():
    for data in ("<a>سلام</a>".encode(), '<?xml version="1.0" encoding="utf-8"?><a>سلام</a>'.encode(),
                 b"\xef\xbb\xbf" + "<a>سلام</a>".encode()):
        assert parse_untrusted(data).text == "سلام"
    assert parse_untrusted(b"<a>x<![CDATA[ < y]]>&amp;z</a>").text == "x < y&z"


@pytest.mark.parametrize("data", [
    b"", b"<a>", b"<a></b>", b"<a x='1' x='2'/>", b"<a>\x00</a>", b"<a>&undefined;</a>",
    b"<" + b"<d>" * 300 + b">", b"<d>" * 100_000 + b"</d>" * 100_000,
    '<?xml version="1.0" encoding="UTF-8"?><a/>', None, 42,
], ids=["empty", "unclosed", "mismatch", "dup-attr", "nul", "entity", "garbage", "deep", "str", "none", "int"])
def test_r06_every_parser_error_is_a_reason_code(data):
    with pytest.raises(DomainError) as err:
        parse_untrusted(data)
    assert err.value.reason is Reason.MALFORMED_XML


_PARSERS = {"fromstring", "fromstringlist", "parse", "XML", "XMLID", "XMLParser", "iterparse", "XMLPullParser",
            "HTML", "HTMLParser", "ETCompatXMLParser"}
_OTHER_XML = ("xml.etree", "xml.dom", "xml.sax", "xml.parsers", "defusedxml", "lxml.objectify", "lxml.html")


def _parses_xml(tree: ast.AST) -> list[int]:
    """Lines of `tree` that parse XML or import another XML parser (code only, not strings)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _PARSERS and isinstance(node.value, ast.Name) \
                and node.value.id == "etree":
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name.startswith(_OTHER_XML) for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module.startswith(_OTHER_XML) or (node.module == "lxml.etree" and names & _PARSERS) \
                    or (node.module == "lxml" and names & {"objectify", "html"}):
                lines.append(node.lineno)
    return lines


def test_r06_every_xml_parse_in_the_engine_goes_through_xmlsafe():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", ".prefect/", "build/")) or rel == "domain/xmlsafe.py":
            continue
        offenders += [f"{rel}:{n}" for n in _parses_xml(ast.parse(path.read_text(encoding="utf-8")))]
    assert offenders == []
    assert _parses_xml(ast.parse("from lxml import etree\netree.fromstring(b'<a/>')\n")) == [2]
