"""audit insert guard and checkpoints

The audit log takes an INSERT only at its head (no sequence at or below the last one, no replace);
the engine's signed checkpoints of the chain head, append-only; the portal stub's published copies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models
import store.stub_tables
from store.triggers import (
    checkpoint_drop_statements,
    checkpoint_statements,
    insert_guard_drop_statements,
    insert_guard_statements,
)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('taken_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=160), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_checkpoints_seq'))
    )
    # A process that ran store.stub_tables.create_stub_tables with this code before the upgrade
    # has created the stub's table already.
    if not sa.inspect(op.get_bind()).has_table('ext_ann_checkpoints'):
        op.create_table('ext_ann_checkpoints',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('xml', sa.LargeBinary(), nullable=False),
        sa.Column('published_at', store.stub_tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ext_ann_checkpoints')),
        sa.UniqueConstraint('seq', name=op.f('uq_ext_ann_checkpoints_seq'))
        )
    op.create_index('ix_audit_action', 'audit_log', ['action', 'entity_id'], unique=False)
    dialect = op.get_bind().dialect.name
    for stmt in insert_guard_statements(dialect) + checkpoint_statements(dialect):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in checkpoint_drop_statements(dialect) + insert_guard_drop_statements(dialect):
        op.execute(stmt)
    op.drop_table('ext_ann_checkpoints')
    op.drop_table('audit_checkpoints')
    op.drop_index('ix_audit_action', table_name='audit_log')
