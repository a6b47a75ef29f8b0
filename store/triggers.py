"""Database-level append-only guard for the audit log (used by the migration and tests)."""
from __future__ import annotations

SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"]

PG_CREATE = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
PG_DROP = ["DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
           "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
           "DROP FUNCTION IF EXISTS audit_log_append_only()"]


def create_statements(dialect: str) -> list[str]:
    return PG_CREATE if dialect == "postgresql" else SQLITE_CREATE


def drop_statements(dialect: str) -> list[str]:
    return PG_DROP if dialect == "postgresql" else SQLITE_DROP
