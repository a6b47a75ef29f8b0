"""budget-line and expense-factor registries

Issue 13 (R29): a contract's budget line is chosen from the unit's registry (each unit's code mapped
to the municipality's general code) and its expense factor from a registry whose new entries need
the financial system's committee's approval.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 18:50:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_lines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('general_code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('added_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_budget_lines_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_lines')),
    sa.UniqueConstraint('unit_id', 'code', name=op.f('uq_budget_lines_unit_id_code'))
    )
    op.create_index(op.f('ix_budget_lines_unit_id'), 'budget_lines', ['unit_id'], unique=False)
    op.create_table('expense_factors',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('added_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('committee_ref', sa.String(length=100), nullable=True),
    sa.Column('approved_at', store.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_factors')),
    sa.UniqueConstraint('code', name=op.f('uq_expense_factors_code'))
    )


def downgrade() -> None:
    op.drop_table('expense_factors')
    op.drop_index(op.f('ix_budget_lines_unit_id'), table_name='budget_lines')
    op.drop_table('budget_lines')
