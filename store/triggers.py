"""Database-level guards of the audit log and its checkpoints (used by the migrations and tests).

`audit_log` takes no UPDATE and no DELETE (nor TRUNCATE on PostgreSQL), and an INSERT only at the
head: its `seq` above every stored one and its `prev_hash` the hash of the last entry. SQLite's
`INSERT OR REPLACE` deletes the row it conflicts with without firing DELETE triggers (unless the
connection set `PRAGMA recursive_triggers`), so the conflict itself is refused before the insert:
no insert may replace an entry, whatever the connection's pragmas. PostgreSQL's
`INSERT ... ON CONFLICT DO UPDATE` is an UPDATE and refused as such.
`audit_checkpoints` (the engine's signed chain heads) takes no UPDATE and no DELETE, and an INSERT
only above the newest checkpoint: no replace of an existing id or seq (SQLite's `INSERT OR REPLACE`
would silently delete it), no seq at or below the current maximum (issue 10, R21).

`create_statements`/`drop_statements` cover the audit log (migration 0001 creates them, and a
database administrator's tampering in the tests drops and restores them); migration 0005 adds the
insert guard to databases created before it (`insert_guard_statements`, idempotent) and guards the
checkpoints (`checkpoint_statements`); migration 0008 adds the checkpoints' insert guard
(`checkpoint_insert_guard_statements`, idempotent).
"""
from __future__ import annotations

# The tables the application may only read and append to (eproc.stack.postgres grants no more).
APPEND_ONLY_TABLES = ("audit_log", "audit_checkpoints")

_GENESIS = "0" * 64  # store.audit.GENESIS: the prev_hash of the first entry

_SQLITE_INSERT_GUARD = [
    # Before the insert, so REPLACE never gets to delete the entry it conflicts with.
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log "
    "WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq OR hash = NEW.hash OR prev_hash = NEW.prev_hash) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: an insert may not replace an entry'); END",
    # After the insert: only then is an automatic seq known (a BEFORE trigger sees -1).
    "CREATE TRIGGER IF NOT EXISTS audit_log_insert_at_head AFTER INSERT ON audit_log "
    "WHEN NEW.seq <= (SELECT max(seq) FROM audit_log WHERE seq <> NEW.seq) "
    "OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_log WHERE seq < NEW.seq ORDER BY seq DESC LIMIT 1), "
    f"'{_GENESIS}') "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: insert only after the last entry (seq, prev_hash)'); END",
]
_SQLITE_INSERT_GUARD_DROP = ["DROP TRIGGER IF EXISTS audit_log_no_replace",
                             "DROP TRIGGER IF EXISTS audit_log_insert_at_head"]

SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    *_SQLITE_INSERT_GUARD,
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete",
               *_SQLITE_INSERT_GUARD_DROP]

_PG_INSERT_GUARD = [
    "CREATE OR REPLACE FUNCTION audit_log_insert_at_head() RETURNS trigger AS $$ "
    "DECLARE head_seq bigint; head_hash varchar; "
    "BEGIN "
    "SELECT seq, hash INTO head_seq, head_hash FROM audit_log ORDER BY seq DESC LIMIT 1; "
    "IF head_seq IS NOT NULL AND NEW.seq <= head_seq THEN "
    "RAISE EXCEPTION 'audit_log is append-only: seq % is not after the last entry %', NEW.seq, head_seq; "
    "END IF; "
    f"IF NEW.prev_hash IS DISTINCT FROM coalesce(head_hash, '{_GENESIS}') THEN "
    "RAISE EXCEPTION 'audit_log is append-only: prev_hash is not the hash of the last entry'; "
    "END IF; "
    "RETURN NEW; END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER audit_log_insert_at_head BEFORE INSERT ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_insert_at_head()",
]
_PG_INSERT_GUARD_DROP = ["DROP TRIGGER IF EXISTS audit_log_insert_at_head ON audit_log",
                         "DROP FUNCTION IF EXISTS audit_log_insert_at_head()"]

PG_CREATE = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    *_PG_INSERT_GUARD,
]
PG_DROP = ["DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
           "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
           "DROP FUNCTION IF EXISTS audit_log_append_only()",
           *_PG_INSERT_GUARD_DROP]

_SQLITE_CHECKPOINTS = [
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints "
    "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
    "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END",
]
_SQLITE_CHECKPOINTS_DROP = ["DROP TRIGGER IF EXISTS audit_checkpoints_no_update",
                            "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete"]
_PG_CHECKPOINTS = [
    "CREATE OR REPLACE FUNCTION audit_checkpoints_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_checkpoints is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints "
    "FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only()",
    "CREATE OR REPLACE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only()",
]
_PG_CHECKPOINTS_DROP = ["DROP TRIGGER IF EXISTS audit_checkpoints_no_change ON audit_checkpoints",
                        "DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints",
                        "DROP FUNCTION IF EXISTS audit_checkpoints_append_only()"]

_SQLITE_CHECKPOINTS_INSERT_GUARD = [
    # Before the insert, so REPLACE never gets to delete the checkpoint it conflicts with (an automatic
    # id is -1 here and conflicts with nothing).
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_insert_at_head BEFORE INSERT ON audit_checkpoints "
    "WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE id = NEW.id OR seq = NEW.seq) "
    "OR NEW.seq <= (SELECT max(seq) FROM audit_checkpoints) "
    "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: insert only above the newest checkpoint, "
    "never in place of one'); END",
]
_SQLITE_CHECKPOINTS_INSERT_GUARD_DROP = ["DROP TRIGGER IF EXISTS audit_checkpoints_insert_at_head"]
# The same seq stored already is a unique violation (services' add_once reads another process's
# checkpoint on IntegrityError); a seq below the newest breaks the table's order (check violation).
_PG_CHECKPOINTS_INSERT_GUARD = [
    "CREATE OR REPLACE FUNCTION audit_checkpoints_insert_at_head() RETURNS trigger AS $$ "
    "DECLARE newest bigint; "
    "BEGIN "
    "IF EXISTS (SELECT 1 FROM audit_checkpoints WHERE id = NEW.id OR seq = NEW.seq) THEN "
    "RAISE EXCEPTION 'audit_checkpoints is append-only: checkpoint % is stored already', NEW.seq "
    "USING ERRCODE = 'unique_violation'; "
    "END IF; "
    "SELECT max(seq) INTO newest FROM audit_checkpoints; "
    "IF newest IS NOT NULL AND NEW.seq <= newest THEN "
    "RAISE EXCEPTION 'audit_checkpoints is append-only: seq % is not above the newest checkpoint %', "
    "NEW.seq, newest USING ERRCODE = 'check_violation'; "
    "END IF; "
    "RETURN NEW; END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER audit_checkpoints_insert_at_head BEFORE INSERT ON audit_checkpoints "
    "FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_insert_at_head()",
]
_PG_CHECKPOINTS_INSERT_GUARD_DROP = ["DROP TRIGGER IF EXISTS audit_checkpoints_insert_at_head ON audit_checkpoints",
                                     "DROP FUNCTION IF EXISTS audit_checkpoints_insert_at_head()"]


def create_statements(dialect: str) -> list[str]:
    """Every guard of `audit_log` (idempotent)."""
    return PG_CREATE if dialect == "postgresql" else SQLITE_CREATE


def drop_statements(dialect: str) -> list[str]:
    return PG_DROP if dialect == "postgresql" else SQLITE_DROP


def insert_guard_statements(dialect: str) -> list[str]:
    """The insert guard of `audit_log` alone (idempotent): migration 0005."""
    return _PG_INSERT_GUARD if dialect == "postgresql" else _SQLITE_INSERT_GUARD


def insert_guard_drop_statements(dialect: str) -> list[str]:
    return _PG_INSERT_GUARD_DROP if dialect == "postgresql" else _SQLITE_INSERT_GUARD_DROP


def checkpoint_statements(dialect: str) -> list[str]:
    """The guards of `audit_checkpoints` (idempotent): migration 0005."""
    return _PG_CHECKPOINTS if dialect == "postgresql" else _SQLITE_CHECKPOINTS


def checkpoint_drop_statements(dialect: str) -> list[str]:
    return _PG_CHECKPOINTS_DROP if dialect == "postgresql" else _SQLITE_CHECKPOINTS_DROP


def checkpoint_insert_guard_statements(dialect: str) -> list[str]:
    """The insert guard of `audit_checkpoints` (idempotent): migration 0008."""
    return _PG_CHECKPOINTS_INSERT_GUARD if dialect == "postgresql" else _SQLITE_CHECKPOINTS_INSERT_GUARD


def checkpoint_insert_guard_drop_statements(dialect: str) -> list[str]:
    return _PG_CHECKPOINTS_INSERT_GUARD_DROP if dialect == "postgresql" else _SQLITE_CHECKPOINTS_INSERT_GUARD_DROP
