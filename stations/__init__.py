"""The stations' side of the API (issue 11): what a person's own machine does with their own token.

`client` (Api, Station: login, signed requests, streamed uploads), `verify` (checking the engine's
notices and receipts with the CA certificate), `operator` (price lists, formulas, tenders, notices)
and `bidder` (sealing from the signed notice, submitting, checking the receipt). The `eproc` CLI's
station commands and the rehearsal (`pilot/`) both act through these, so a rehearsal follows the
production path.
"""
