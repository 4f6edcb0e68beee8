"""Tickets (DOMAIN §3): the ticket, its timeline and the requests attached to it.

Creates ``tickets`` with every deadline of §3.2, the optimistic-locking ``version`` column and
the state invariants of §3.1 as named CHECK constraints (closed ⇔ closed_at, suspended ⇔
paused_at, a lead unit exactly while a unit holds the ticket, …); the yearly reference counter
used to number tickets ``KS2026-000123`` without gaps or collisions; assisting units with their
own sub-deadlines; the append-only events, comments and attachment metadata; extension and
return requests, urges and supervision orders (with de-duplication keys so the SLA scan is
idempotent); categories, seeded with the usual demand categories, and the dispatch catalogue.

Revision ID: a866f7845724
Revises: b5fe1f81a2ba
Create Date: 2026-11-26 09:21:50
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = 'a866f7845724'
down_revision = 'b5fe1f81a2ba'
branch_labels = None
depends_on = None

#: (code, name) of the categories every installation starts with; admins edit them later.
CATEGORIES = [
    ("policy", "政策咨询"), ("hiring", "用工招聘"), ("finance", "融资信贷"),
    ("land", "用地规划"), ("permits", "审批许可"), ("utilities", "水电气"),
    ("ip", "知识产权"), ("taiwan", "涉台事务"), ("trade", "外贸外资"),
    ("environment", "生态环保"), ("tax", "税费服务"), ("other", "其他"),
]

TABLES = ('ticket_attachments', 'ticket_urges', 'ticket_supervision_orders',
          'ticket_return_requests', 'ticket_extension_requests', 'ticket_events',
          'ticket_comments', 'ticket_assisting_units', 'tickets', 'dispatch_rules',
          'ticket_reference_counters', 'ticket_categories')


def upgrade():
    op.create_table('ticket_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_ticket_categories_code')),
    sa.UniqueConstraint('name', name=op.f('uq_ticket_categories_name'))
    )
    op.create_table('ticket_reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number > 0', name=op.f('ck_ticket_reference_counters_last_number_positive')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_ticket_reference_counters'))
    )
    op.create_table('dispatch_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['ticket_categories.id'], name=op.f('fk_dispatch_rules_category_id_ticket_categories')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['units.id'], name=op.f('fk_dispatch_rules_lead_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_rules')),
    sa.UniqueConstraint('category_id', name=op.f('uq_dispatch_rules_category_id'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('access_token', sa.String(length=64), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('requester_name', sa.String(length=64), nullable=True),
    sa.Column('requester_mobile', sa.String(length=20), nullable=True),
    sa.Column('requester_email', sa.String(length=254), nullable=True),
    sa.Column('requester_firm_name', sa.String(length=200), nullable=True),
    sa.Column('requester_uscc', sa.String(length=32), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('web', 'portal', 'visit', 'phone', 'hotline_12345', 'walk_in', 'api', name='ticket_channel', native_enum=False, create_constraint=True, length=21), nullable=False),
    sa.Column('service_mode', sa.Enum('handle_now', 'standard', 'lifecycle', name='ticket_service_mode', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('demand_type', sa.Enum('consult', 'help', 'complaint', 'report', 'suggestion', name='ticket_demand_type', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'critical', name='ticket_urgency', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('is_complex', sa.Boolean(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'dispatched', 'in_progress', 'return_requested', 'suspended', 'replied', 'follow_up', 'closed', 'rejected', 'merged', 'withdrawn', name='ticket_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('intake_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledge_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_window_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handle_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_review_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_status', sa.Enum('on_track', 'due_soon', 'overdue', 'met', 'missed', name='ticket_sla_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_seconds', sa.Integer(), nullable=False),
    sa.Column('returned_seconds', sa.Integer(), nullable=False),
    sa.Column('extension_count', sa.Integer(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('is_supervised', sa.Boolean(), nullable=False),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('final_reply_text', sa.Text(), nullable=True),
    sa.Column('final_reply_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('final_reply_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closure_kind', sa.Enum('rated', 'followed_up', 'unreachable', 'final_reply', name='ticket_closure_kind', native_enum=False, create_constraint=True, length=19), nullable=True),
    sa.Column('rating_level', sa.SmallInteger(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_tickets_closed_has_closed_at')),
    sa.CheckConstraint("(status = 'closed') = (closure_kind IS NOT NULL)", name=op.f('ck_tickets_closed_has_closure_kind')),
    sa.CheckConstraint("(status = 'merged') = (merged_into_id IS NOT NULL)", name=op.f('ck_tickets_merged_has_target')),
    sa.CheckConstraint("(status = 'rejected') = (rejected_at IS NOT NULL)", name=op.f('ck_tickets_rejected_has_rejected_at')),
    sa.CheckConstraint("(status = 'suspended') = (paused_at IS NOT NULL)", name=op.f('ck_tickets_suspended_has_paused_at')),
    sa.CheckConstraint("(status = 'withdrawn') = (withdrawn_at IS NOT NULL)", name=op.f('ck_tickets_withdrawn_has_withdrawn_at')),
    sa.CheckConstraint("NOT (status IN ('dispatched', 'in_progress', 'replied', 'return_requested', 'suspended')) OR lead_unit_id IS NOT NULL", name=op.f('ck_tickets_unit_states_have_lead_unit')),
    sa.CheckConstraint("status <> 'submitted' OR lead_unit_id IS NULL", name=op.f('ck_tickets_submitted_has_no_lead_unit')),
    sa.CheckConstraint("status NOT IN ('replied', 'follow_up') OR replied_at IS NOT NULL", name=op.f('ck_tickets_replied_states_have_replied_at')),
    sa.CheckConstraint('(lead_unit_id IS NULL) = (dispatched_at IS NULL)', name=op.f('ck_tickets_lead_unit_with_dispatched_at')),
    sa.CheckConstraint('firm_id IS NOT NULL OR (requester_name IS NOT NULL AND (requester_mobile IS NOT NULL OR requester_email IS NOT NULL))', name=op.f('ck_tickets_firm_or_requester_contact')),
    sa.CheckConstraint('merged_into_id IS NULL OR merged_into_id <> id', name=op.f('ck_tickets_not_merged_into_itself')),
    sa.CheckConstraint('paused_seconds >= 0 AND returned_seconds >= 0 AND extension_count >= 0 AND extension_days >= 0 AND reopen_count >= 0 AND return_count >= 0 AND urge_count >= 0', name=op.f('ck_tickets_counters_not_negative')),
    sa.CheckConstraint('rating_level IS NULL OR rating_level BETWEEN 1 AND 5', name=op.f('ck_tickets_rating_level_range')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_tickets_version_positive')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['ticket_categories.id'], name=op.f('fk_tickets_category_id_ticket_categories')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tickets_created_by_id_users')),
    sa.ForeignKeyConstraint(['final_reply_signed_by_id'], ['users.id'], name=op.f('fk_tickets_final_reply_signed_by_id_users')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_tickets_firm_id_firms')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['units.id'], name=op.f('fk_tickets_lead_unit_id_units')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('access_token', name=op.f('uq_tickets_access_token')),
    sa.UniqueConstraint('reference', name=op.f('uq_tickets_reference'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee_id_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_tickets_category_id', ['category_id'], unique=False)
        batch_op.create_index('ix_tickets_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_tickets_created_by_id', ['created_by_id'], unique=False)
        batch_op.create_index('ix_tickets_firm_id_created_at', ['firm_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_lead_unit_id_status_due_at', ['lead_unit_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_tickets_sla_status_due_at', ['sla_status', 'due_at'], unique=False)
        batch_op.create_index('ix_tickets_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('ticket_assisting_units',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_assisting_units_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ticket_assisting_units_unit_id_units')),
    sa.PrimaryKeyConstraint('ticket_id', 'unit_id', name=op.f('pk_ticket_assisting_units'))
    )
    with op.batch_alter_table('ticket_assisting_units', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_assisting_units_unit_id_due_at', ['unit_id', 'due_at'], unique=False)

    op.create_table('ticket_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'internal', name='comment_visibility', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_ticket_comments_author_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_comments_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_comments'))
    )
    with op.batch_alter_table('ticket_comments', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_comments_ticket_id_created_at', ['ticket_id', 'created_at'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.Enum('submitted', 'dispatched', 'in_progress', 'return_requested', 'suspended', 'replied', 'follow_up', 'closed', 'rejected', 'merged', 'withdrawn', name='ticket_event_from_status', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('to_status', sa.Enum('submitted', 'dispatched', 'in_progress', 'return_requested', 'suspended', 'replied', 'follow_up', 'closed', 'rejected', 'merged', 'withdrawn', name='ticket_event_to_status', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ticket_events_actor_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_ticket_events_ticket_id_at', ['ticket_id', 'at'], unique=False)

    op.create_table('ticket_extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('awaiting_endorsement', 'awaiting_decision', 'approved', 'rejected', name='extension_status', native_enum=False, create_constraint=True, length=28), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('current_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('endorsed_by_id', sa.Integer(), nullable=True),
    sa.Column('endorsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("(status IN ('approved', 'rejected')) = (decided_at IS NOT NULL)", name=op.f('ck_ticket_extension_requests_decided_has_decided_at')),
    sa.CheckConstraint("(status IN ('awaiting_decision', 'approved') AND endorsed_at IS NOT NULL) OR status IN ('awaiting_endorsement', 'rejected')", name=op.f('ck_ticket_extension_requests_decision_follows_endorsement')),
    sa.CheckConstraint('days > 0', name=op.f('ck_ticket_extension_requests_days_positive')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_ticket_extension_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['endorsed_by_id'], ['users.id'], name=op.f('fk_ticket_extension_requests_endorsed_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_ticket_extension_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_extension_requests_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_extension_requests'))
    )
    with op.batch_alter_table('ticket_extension_requests', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_extension_requests_status', ['status'], unique=False)
        batch_op.create_index('ix_ticket_extension_requests_ticket_id', ['ticket_id'], unique=False)

    op.create_table('ticket_return_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='return_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('suggested_unit_id', sa.Integer(), nullable=True),
    sa.Column('previous_status', sa.String(length=32), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_ticket_return_requests_decided_has_decided_at')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_ticket_return_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_ticket_return_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['suggested_unit_id'], ['units.id'], name=op.f('fk_ticket_return_requests_suggested_unit_id_units')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_return_requests_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ticket_return_requests_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_return_requests'))
    )
    with op.batch_alter_table('ticket_return_requests', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_return_requests_ticket_id', ['ticket_id'], unique=False)
        batch_op.create_index('ix_ticket_return_requests_unit_id_status', ['unit_id', 'status'], unique=False)

    op.create_table('ticket_supervision_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'closed', name='supervision_status', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('is_automatic', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=100), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_ticket_supervision_orders_closed_has_closed_at')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ticket_supervision_orders_created_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_supervision_orders_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ticket_supervision_orders_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_supervision_orders')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_ticket_supervision_orders_dedupe_key'))
    )
    with op.batch_alter_table('ticket_supervision_orders', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_supervision_orders_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_ticket_supervision_orders_ticket_id', ['ticket_id'], unique=False)

    op.create_table('ticket_urges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('manual', 'auto', name='urge_kind', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('urged_by_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=100), nullable=True),
    sa.CheckConstraint("kind = 'manual' OR dedupe_key IS NOT NULL", name=op.f('ck_ticket_urges_auto_urge_has_dedupe_key')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_urges_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ticket_urges_unit_id_units')),
    sa.ForeignKeyConstraint(['urged_by_id'], ['users.id'], name=op.f('fk_ticket_urges_urged_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_urges')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_ticket_urges_dedupe_key'))
    )
    with op.batch_alter_table('ticket_urges', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_urges_ticket_id_at', ['ticket_id', 'at'], unique=False)

    op.create_table('ticket_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'internal', name='attachment_visibility', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_ticket_attachments_size_not_negative')),
    sa.ForeignKeyConstraint(['comment_id'], ['ticket_comments.id'], name=op.f('fk_ticket_attachments_comment_id_ticket_comments')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_ticket_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_ticket_attachments_stored_name'))
    )
    with op.batch_alter_table('ticket_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_attachments_ticket_id', ['ticket_id'], unique=False)

    now = datetime.now(UTC)
    categories = sa.table('ticket_categories', sa.column('code', sa.String),
                          sa.column('name', sa.String), sa.column('sort_order', sa.Integer),
                          sa.column('is_active', sa.Boolean),
                          sa.column('created_at', sa.DateTime(timezone=True)),
                          sa.column('updated_at', sa.DateTime(timezone=True)))
    op.bulk_insert(categories, [
        {'code': code, 'name': name, 'sort_order': (n + 1) * 10, 'is_active': True,
         'created_at': now, 'updated_at': now} for n, (code, name) in enumerate(CATEGORIES)])


def downgrade():
    for table in TABLES:
        op.drop_table(table)
