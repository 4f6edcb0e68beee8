"""Working calendar, SLA policies and SLA settings (DOMAIN §3.2).

Revision ID: b5fe1f81a2ba
Revises: 78404b6c6ffe
Create Date: 2026-11-26 09:21:15

Three tables: ``work_calendar_days`` (the official calendar, one row per date, filled by
``flask calendar seed`` and edited by admins), ``sla_policies`` (the limits of each step per
service mode × demand type × urgency × complex flag, filled by ``flask sla seed-policies``) and
``sla_settings``, a single row created here with the default office hours (08:30–12:00,
13:30–17:30) and extension rules, so every installation has them from the start.
"""

import secrets
from datetime import time

import sqlalchemy as sa
from alembic import op

revision = 'b5fe1f81a2ba'
down_revision = '78404b6c6ffe'
branch_labels = None
depends_on = None

LIMIT_UNITS = ('working_days', 'working_minutes', 'natural_minutes', 'same_working_day')
STEPS = ('intake', 'acknowledge', 'return_window', 'handle', 'reply_review', 'follow_up',
         'auto_urge_lead', 'auto_supervise_delay')


def _limit_columns():
    for step in STEPS:
        yield sa.Column(f'{step}_limit', sa.Numeric(precision=8, scale=2), nullable=False)
        yield sa.Column(f'{step}_unit', sa.Enum(*LIMIT_UNITS, name=f'{step}_unit',
                                                native_enum=False, create_constraint=True,
                                                length=24), nullable=False)


def upgrade():
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_mode', sa.Enum('handle_now', 'standard', 'lifecycle', name='service_mode', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('demand_type', sa.Enum('consult', 'help', 'complaint', 'report', 'suggestion', name='demand_type', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'critical', name='urgency', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('is_complex', sa.Boolean(), nullable=False),
    *_limit_columns(),
    sa.Column('same_day_cutoff', sa.Time(), nullable=False),
    sa.Column('due_soon_remaining_days', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('due_soon_used_percent', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_soon_remaining_days >= 0', name=op.f('ck_sla_policies_due_soon_days_not_negative')),
    sa.CheckConstraint('due_soon_used_percent BETWEEN 1 AND 100', name=op.f('ck_sla_policies_due_soon_percent_range')),
    sa.CheckConstraint('intake_limit >= 0 AND acknowledge_limit >= 0 AND return_window_limit >= 0 AND handle_limit >= 0 AND reply_review_limit >= 0 AND follow_up_limit >= 0 AND auto_urge_lead_limit >= 0 AND auto_supervise_delay_limit >= 0', name=op.f('ck_sla_policies_limits_not_negative')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_sla_policies_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('service_mode', 'demand_type', 'urgency', 'is_complex', name='uq_sla_policies_key')
    )
    op.create_table('sla_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('morning_start', sa.Time(), nullable=False),
    sa.Column('morning_end', sa.Time(), nullable=False),
    sa.Column('afternoon_start', sa.Time(), nullable=False),
    sa.Column('afternoon_end', sa.Time(), nullable=False),
    sa.Column('extension_max_requests', sa.Integer(), nullable=False),
    sa.Column('extension_max_total_days', sa.Integer(), nullable=False),
    sa.Column('extension_request_lead_days', sa.Integer(), nullable=False),
    sa.Column('calendar_revision', sa.String(length=32), nullable=False),
    sa.Column('policy_revision', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('extension_max_requests >= 0 AND extension_max_total_days >= 0 AND extension_request_lead_days >= 0', name=op.f('ck_sla_settings_extension_rules_not_negative')),
    sa.CheckConstraint('id = 1', name=op.f('ck_sla_settings_single_row')),
    sa.CheckConstraint('morning_start < morning_end AND morning_end <= afternoon_start AND afternoon_start < afternoon_end', name=op.f('ck_sla_settings_office_hours_ordered')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_sla_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_settings'))
    )
    op.create_table('work_calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.Enum('normal', 'weekend', 'holiday', 'makeup_workday', name='day_kind', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('source', sa.Enum('package', 'generated', 'admin', name='day_source', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("is_workday = (kind IN ('normal', 'makeup_workday'))", name=op.f('ck_work_calendar_days_kind_matches_workday')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_work_calendar_days_updated_by_id_users')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_work_calendar_days'))
    )
    settings = sa.table(
        'sla_settings', sa.column('id', sa.Integer), sa.column('morning_start', sa.Time),
        sa.column('morning_end', sa.Time), sa.column('afternoon_start', sa.Time),
        sa.column('afternoon_end', sa.Time), sa.column('extension_max_requests', sa.Integer),
        sa.column('extension_max_total_days', sa.Integer),
        sa.column('extension_request_lead_days', sa.Integer),
        sa.column('calendar_revision', sa.String), sa.column('policy_revision', sa.String),
    )
    op.bulk_insert(settings, [{
        'id': 1, 'morning_start': time(8, 30), 'morning_end': time(12, 0),
        'afternoon_start': time(13, 30), 'afternoon_end': time(17, 30),
        'extension_max_requests': 2, 'extension_max_total_days': 10,
        'extension_request_lead_days': 1,
        'calendar_revision': secrets.token_hex(8), 'policy_revision': secrets.token_hex(8),
    }])


def downgrade():
    op.drop_table('work_calendar_days')
    op.drop_table('sla_settings')
    op.drop_table('sla_policies')
