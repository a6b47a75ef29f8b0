"""HTTP clients of the outside systems' services (issue 13 part 4).

Each class implements an outside system's `Protocol` (integrations.financial.FinancialSystem,
integrations.project_control.ProjectControlSystem, integrations.transparency.TransparencyPublisher)
over the small HTTP service that wraps its rule-enforcing stub (integrations.services, started with
`eproc stub serve ...`). The engine uses them when EPROC_INTEGRATIONS=http (eproc.wiring); the
in-process stubs stay the default. `registration.HttpTransactionsReader` is what those services read
the transactions system with.
"""
