"""Policy rules that are decisions, not configuration: the rules calendar (R27)."""
