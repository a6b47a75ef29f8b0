"""PKCS#11 tokens, the municipal CA, XML signatures and their verification, key transport.

Modules: token (Token, token_present), softhsm (SoftHsm, dev/test tokens), ca (MunicipalCA),
registry (CertificateRegistry, CertificateRecord), xmldsig (sign_document, signatures,
xmlsec1_verify_command), verify (verify_document, TrustStore, SignatureCheck),
keytransport (wrap_secret, choose_mechanism, unwrap_secret), readiness (readiness).
Nothing is imported here, so importing `signing` never loads a PKCS#11 library.
"""
