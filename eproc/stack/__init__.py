"""A local production-like stack: PostgreSQL, the Prefect server, a process work pool, workers."""
