"""The outside systems as their own small HTTP services (issue 13 part 4).

Each service is a separate process (`eproc stub serve financial|project-control|transparency`) with a
SQLite database of its own; it wraps the rule-enforcing stub of integrations/stubs (one home per
rule: the stub's checks, and for the financial system's R28/R29 checks domain.contract.payment_data)
and reads the transactions system over HTTP by code (integrations.http.registration). Nothing is
pushed to it but codes, except what the Protocol itself carries (the transparency publisher's
contract data, the registry's lists). The engine talks to it through integrations/http.
"""
