"""real estate and barter

Issue 14 part 3 (R22, R23): real-estate transactions and barter registered as contracts with their
own deal record, and the real-estate system stub's property file and recorded deals.

Revision ID: 0014
Revises: 0013_income
Create Date: 2026-11-30 14:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.columns

revision = '0014'
down_revision = '0013_income'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('real_estate_deals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('contract_type', sa.String(length=20), nullable=False),
    sa.Column('transaction', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('plate_key', sa.String(length=120), nullable=True),
    sa.Column('area_m2', sa.String(length=20), nullable=True),
    sa.Column('deal_json', sa.Text(), nullable=False),
    sa.Column('registered_at', store.columns.UTCDateTime(), nullable=False),
    sa.Column('release_id', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_real_estate_deals_contract_id_contracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_real_estate_deals')),
    sa.UniqueConstraint('contract_id', name=op.f('uq_real_estate_deals_contract_id'))
    )
    op.create_index(op.f('ix_real_estate_deals_plate_key'), 'real_estate_deals', ['plate_key'], unique=False)

    op.create_table('ext_re_properties',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plate_key', sa.String(length=120), nullable=False),
    sa.Column('property_type', sa.String(length=30), nullable=False),
    sa.Column('area_m2', sa.String(length=20), nullable=False),
    sa.Column('location', sa.String(length=60), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('valuation_json', sa.Text(), nullable=True),
    sa.Column('recorded_at', store.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ext_re_properties')),
    sa.UniqueConstraint('plate_key', name=op.f('uq_ext_re_properties_plate_key'))
    )
    op.create_table('ext_re_deals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contract_code', sa.String(length=40), nullable=False),
    sa.Column('plate_key', sa.String(length=120), nullable=False),
    sa.Column('transaction', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', store.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ext_re_deals')),
    sa.UniqueConstraint('contract_code', name=op.f('uq_ext_re_deals_contract_code'))
    )
    op.create_index(op.f('ix_ext_re_deals_plate_key'), 'ext_re_deals', ['plate_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ext_re_deals_plate_key'), table_name='ext_re_deals')
    op.drop_table('ext_re_deals')
    op.drop_table('ext_re_properties')
    op.drop_index(op.f('ix_real_estate_deals_plate_key'), table_name='real_estate_deals')
    op.drop_table('real_estate_deals')
