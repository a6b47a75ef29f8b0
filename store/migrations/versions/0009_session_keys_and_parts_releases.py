"""session keys and members' releases of their parts

Issue 12: each bidder deals its bid's opening key to the commission's seats; at a sitting the
engine makes a key on its own token (`session_keys`) and every member's station releases its parts
wrapped to it (`parts_releases`), so no one holds the means to open a bid before the sitting.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:20:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_keys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tender_id', sa.String(length=64), nullable=False),
    sa.Column('session', sa.String(length=20), nullable=False),
    sa.Column('key_label', sa.String(length=64), nullable=False),
    sa.Column('mechanism', sa.String(length=40), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_session_keys_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_keys')),
    sa.UniqueConstraint('tender_id', 'session', name=op.f('uq_session_keys_tender_id_session'))
    )
    op.create_index(op.f('ix_session_keys_tender_id'), 'session_keys', ['tender_id'], unique=False)
    op.create_table('parts_releases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tender_id', sa.String(length=64), nullable=False),
    sa.Column('session', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.String(length=40), nullable=False),
    sa.Column('national_id', sa.String(length=10), nullable=False),
    sa.Column('released_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_parts_releases_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parts_releases')),
    sa.UniqueConstraint('tender_id', 'session', 'member_id', name=op.f('uq_parts_releases_tender_id_session_member_id'))
    )
    op.create_index(op.f('ix_parts_releases_tender_id'), 'parts_releases', ['tender_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_parts_releases_tender_id'), table_name='parts_releases')
    op.drop_table('parts_releases')
    op.drop_index(op.f('ix_session_keys_tender_id'), table_name='session_keys')
    op.drop_table('session_keys')
