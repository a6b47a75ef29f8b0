"""audit checkpoints insert guard

`audit_checkpoints` takes an INSERT only above its newest checkpoint: no replace of a stored id or
seq (SQLite's INSERT OR REPLACE deletes the row it conflicts with, firing no DELETE trigger), no seq
at or below the current maximum (issue 10, R21). Triggers only: no table changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 14:30:00.000000
"""
from __future__ import annotations

from alembic import op

from store.triggers import checkpoint_insert_guard_drop_statements, checkpoint_insert_guard_statements

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for stmt in checkpoint_insert_guard_statements(op.get_bind().dialect.name):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in checkpoint_insert_guard_drop_statements(op.get_bind().dialect.name):
        op.execute(stmt)
