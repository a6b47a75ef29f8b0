"""income contracts: receipts

Issue 14 part 2 (R30): receipts on income contracts, as the engine asked for them
(`income_receipts`, each traced to its schedule lines) and as the financial-system stub recorded
them (`ext_fin_receipts`).

Revision ID: 0013_income
Revises: 0012
Create Date: 2026-11-30 14:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0013_income'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('income_receipts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('receipt_key', sa.String(length=64), nullable=False),
    sa.Column('contract_code', sa.String(length=40), nullable=False),
    sa.Column('amount_rial', sa.BigInteger(), nullable=False),
    sa.Column('received_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('lines_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_income_receipts_contract_id_contracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_receipts')),
    sa.UniqueConstraint('contract_id', 'ref', name=op.f('uq_income_receipts_contract_id_ref')),
    sa.UniqueConstraint('receipt_key', name=op.f('uq_income_receipts_receipt_key'))
    )
    op.create_index(op.f('ix_income_receipts_contract_id'), 'income_receipts', ['contract_id'], unique=False)
    op.create_table('ext_fin_receipts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('receipt_key', sa.String(length=128), nullable=False),
    sa.Column('contract_code', sa.String(length=64), nullable=False),
    sa.Column('amount_rial', sa.BigInteger(), nullable=False),
    sa.Column('received_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ext_fin_receipts')),
    sa.UniqueConstraint('receipt_key', name=op.f('uq_ext_fin_receipts_receipt_key'))
    )
    op.create_index(op.f('ix_ext_fin_receipts_contract_code'), 'ext_fin_receipts', ['contract_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ext_fin_receipts_contract_code'), table_name='ext_fin_receipts')
    op.drop_table('ext_fin_receipts')
    op.drop_index(op.f('ix_income_receipts_contract_id'), table_name='income_receipts')
    op.drop_table('income_receipts')
