"""rules calendar changes and events

Issue 14 part 4 (R27): the approved, audited changes to the rules calendar on top of the policy
TOML, and the events (a unit's first contract with workflow) that switch rules per unit.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rules_calendar_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('units_json', sa.Text(), nullable=False),
    sa.Column('from_day', sa.Date(), nullable=False),
    sa.Column('until_day', sa.Date(), nullable=True),
    sa.Column('value', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_by', sa.String(length=10), nullable=False),
    sa.Column('proposer_role', sa.String(length=40), nullable=False),
    sa.Column('proposed_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=10), nullable=True),
    sa.Column('approver_role', sa.String(length=40), nullable=True),
    sa.Column('approved_at', store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('slide_back', sa.Boolean(), nullable=False),
    sa.Column('slide_backs_json', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules_calendar_changes')),
    sa.UniqueConstraint('version', name=op.f('uq_rules_calendar_changes_version'))
    )
    op.create_table('rules_calendar_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_rules_calendar_events_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules_calendar_events')),
    sa.UniqueConstraint('unit_id', 'event', name=op.f('uq_rules_calendar_events_unit_id_event'))
    )
    op.create_index(op.f('ix_rules_calendar_events_unit_id'), 'rules_calendar_events', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rules_calendar_events_unit_id'), table_name='rules_calendar_events')
    op.drop_table('rules_calendar_events')
    op.drop_table('rules_calendar_changes')
