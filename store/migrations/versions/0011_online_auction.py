"""online auction

Issue 14 part 1: the online auction (حراج) registered on an announced tender, the guarantees its
bidders lodge in the open and its offers in the order received, each judged and receipted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 10:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auctions',
    sa.Column('tender_id', sa.String(length=64), nullable=False),
    sa.Column('terms_json', sa.Text(), nullable=False),
    sa.Column('request_xml', sa.LargeBinary(), nullable=False),
    sa.Column('registered_by', sa.String(length=10), nullable=False),
    sa.Column('registered_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_auctions_tender_id_tenders')),
    sa.PrimaryKeyConstraint('tender_id', name=op.f('pk_auctions'))
    )
    op.create_table('auction_guarantees',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tender_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('bidder_ref', sa.String(length=64), nullable=False),
    sa.Column('company_id', sa.String(length=11), nullable=False),
    sa.Column('amount_rial', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('received_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('document_xml', sa.LargeBinary(), nullable=False),
    sa.Column('receipt_xml', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_auction_guarantees_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_guarantees')),
    sa.UniqueConstraint('tender_id', 'seq', name=op.f('uq_auction_guarantees_tender_id_seq'))
    )
    op.create_index(op.f('ix_auction_guarantees_tender_id'), 'auction_guarantees', ['tender_id'], unique=False)
    op.create_table('auction_offers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tender_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('bidder_ref', sa.String(length=64), nullable=False),
    sa.Column('company_id', sa.String(length=11), nullable=False),
    sa.Column('amount_rial', sa.BigInteger(), nullable=False),
    sa.Column('received_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('closes_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('document_xml', sa.LargeBinary(), nullable=False),
    sa.Column('receipt_xml', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_auction_offers_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_offers')),
    sa.UniqueConstraint('tender_id', 'seq', name=op.f('uq_auction_offers_tender_id_seq'))
    )
    op.create_index(op.f('ix_auction_offers_tender_id'), 'auction_offers', ['tender_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_auction_offers_tender_id'), table_name='auction_offers')
    op.drop_table('auction_offers')
    op.drop_index(op.f('ix_auction_guarantees_tender_id'), table_name='auction_guarantees')
    op.drop_table('auction_guarantees')
    op.drop_table('auctions')
