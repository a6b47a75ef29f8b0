"""price-list imports and approvals, tender drafts, published notices

Issue 11 part 3: a price-list version imported by an operator waits for the deputy's token-signed
approval (R09); formulas are approved the same way; a tender created from a tender file waits for
its notice, which the unit's signatory signs on their token and the engine publishes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approvals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('signer_national_id', sa.String(length=10), nullable=False),
    sa.Column('signer_role', sa.String(length=40), nullable=False),
    sa.Column('signer_unit', sa.String(length=64), nullable=False),
    sa.Column('cert_serial', sa.String(length=64), nullable=False),
    sa.Column('technical_council_ref', sa.String(length=100), nullable=False),
    sa.Column('received_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('kind', 'subject', 'version', name=op.f('uq_approvals_kind_subject_version'))
    )
    op.create_table('price_list_imports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('list_id', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=60), nullable=False),
    sa.Column('items_json', sa.Text(), nullable=False),
    sa.Column('items_sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_by', sa.String(length=10), nullable=False),
    sa.Column('imported_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_xml', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_imports')),
    sa.UniqueConstraint('list_id', 'version', name=op.f('uq_price_list_imports_list_id_version'))
    )
    op.create_table('tender_drafts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=10), nullable=False),
    sa.Column('created_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_xml', sa.LargeBinary(), nullable=False),
    sa.Column('data_json', sa.Text(), nullable=False),
    sa.Column('estimate_rial', sa.BigInteger(), nullable=False),
    sa.Column('opening_plan_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_tender_drafts_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_drafts'))
    )
    with op.batch_alter_table('tender_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_drafts_unit_id'), ['unit_id'], unique=False)

    op.create_table('tender_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tender_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signer_national_id', sa.String(length=10), nullable=False),
    sa.Column('received_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_tender_notices_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_notices')),
    sa.UniqueConstraint('tender_id', 'version', name=op.f('uq_tender_notices_tender_id_version'))
    )
    with op.batch_alter_table('tender_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_notices_tender_id'), ['tender_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tender_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_notices_tender_id'))

    op.drop_table('tender_notices')
    with op.batch_alter_table('tender_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_drafts_unit_id'))

    op.drop_table('tender_drafts')
    op.drop_table('price_list_imports')
    op.drop_table('approvals')
