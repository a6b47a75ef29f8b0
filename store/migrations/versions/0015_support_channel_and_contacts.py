"""support channel and contractor contacts

Issue 13 part 5 (R26): support requests and their signed reply trail, the notifications nobody could
receive (reported, not skipped), and the contractor registry stub's contacts (mobile, e-mail).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 22:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.columns

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('support_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('requester_national_id', sa.String(length=10), nullable=False),
    sa.Column('requester_role', sa.String(length=40), nullable=False),
    sa.Column('requester_unit', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', store.columns.UTCDateTime(), nullable=False),
    sa.Column('updated_at', store.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_requests'))
    )
    op.create_index(op.f('ix_support_requests_requester_national_id'), 'support_requests',
                    ['requester_national_id'], unique=False)
    op.create_index(op.f('ix_support_requests_requester_unit'), 'support_requests', ['requester_unit'], unique=False)
    op.create_table('support_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('author_national_id', sa.String(length=10), nullable=False),
    sa.Column('author_role', sa.String(length=40), nullable=False),
    sa.Column('author_unit', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', store.columns.UTCDateTime(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('signed_xml', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'],
                            name=op.f('fk_support_messages_request_id_support_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_messages')),
    sa.UniqueConstraint('document_sha256', name=op.f('uq_support_messages_document_sha256')),
    sa.UniqueConstraint('request_id', 'seq', name=op.f('uq_support_messages_request_id_seq'))
    )
    op.create_index(op.f('ix_support_messages_request_id'), 'support_messages', ['request_id'], unique=False)
    op.create_table('notification_gaps',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('recipient_id', sa.String(length=64), nullable=False),
    sa.Column('company_id', sa.String(length=11), nullable=True),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('noted_at', store.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_gaps')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_notification_gaps_dedup_key'))
    )
    op.create_index(op.f('ix_notification_gaps_recipient_id'), 'notification_gaps', ['recipient_id'], unique=False)
    op.create_table('ext_reg_contacts',
    sa.Column('company_id', sa.String(length=11), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('updated_at', store.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['ext_reg_companies.national_id'],
                            name=op.f('fk_ext_reg_contacts_company_id_ext_reg_companies')),
    sa.PrimaryKeyConstraint('company_id', name=op.f('pk_ext_reg_contacts'))
    )


def downgrade() -> None:
    op.drop_table('ext_reg_contacts')
    op.drop_index(op.f('ix_notification_gaps_recipient_id'), table_name='notification_gaps')
    op.drop_table('notification_gaps')
    op.drop_index(op.f('ix_support_messages_request_id'), table_name='support_messages')
    op.drop_table('support_messages')
    op.drop_index(op.f('ix_support_requests_requester_unit'), table_name='support_requests')
    op.drop_index(op.f('ix_support_requests_requester_national_id'), table_name='support_requests')
    op.drop_table('support_requests')
