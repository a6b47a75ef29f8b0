"""Sealed bid envelopes and the tender's opening key split among the Article 13 commission.

- `content`: what each envelope holds (A guarantee, B documents, C price), strictly validated;
- `envelopes`: sealing and opening (AES-256-GCM per envelope), the bidder's signed manifest;
- `opening_key`: the tender's X25519 opening key split among the commission's seats.
"""
