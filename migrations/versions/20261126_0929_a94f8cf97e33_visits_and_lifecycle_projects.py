"""Visits and lifecycle projects (DOMAIN §5, §6).

Visits with purposes, visitors, contacts met, attachments and issue lists (an issue links to
the ticket it became); re-checks; visit plans; campaigns with targets and visitors; the single
row of visit settings seeded with the DOMAIN defaults (7-day edit window, key firms quarterly,
others yearly). Lifecycle projects with stages, linked tickets and a timeline, and the stage
template seeded with the eight default stages.

Revision ID: a94f8cf97e33
Revises: 300aeeeb7080
Create Date: 2026-11-26 09:29:17.064024
"""
from alembic import op
import sqlalchemy as sa


revision = 'a94f8cf97e33'
down_revision = '300aeeeb7080'
branch_labels = None
depends_on = None

DEFAULT_STAGES = ["签约落地", "企业设立", "立项备案", "用地保障", "规划许可", "施工许可", "竣工验收",
                  "投产达产"]


def upgrade():
    op.create_table('project_stage_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('default_days', sa.Integer(), nullable=True),
    sa.Column('owner_unit_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('default_days IS NULL OR default_days > 0', name=op.f('ck_project_stage_templates_default_days_positive')),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['units.id'], name=op.f('fk_project_stage_templates_owner_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_stage_templates')),
    sa.UniqueConstraint('name', name=op.f('uq_project_stage_templates_name'))
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('commissioner_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commissioner_id'], ['users.id'], name=op.f('fk_projects_commissioner_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_projects_created_by_id_users')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_projects_firm_id_firms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_commissioner_id', ['commissioner_id'], unique=False)
        batch_op.create_index('ix_projects_firm_id', ['firm_id'], unique=False)

    op.create_table('visit_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_visit_campaigns_period_ordered')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_visit_campaigns_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_visit_campaigns_name'))
    )
    op.create_table('visit_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edit_window_days', sa.Integer(), nullable=False),
    sa.Column('key_firm_cadence_months', sa.Integer(), nullable=False),
    sa.Column('other_firm_cadence_months', sa.Integer(), nullable=False),
    sa.Column('qualifying_modes', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('edit_window_days >= 0', name=op.f('ck_visit_settings_edit_window_not_negative')),
    sa.CheckConstraint('id = 1', name=op.f('ck_visit_settings_single_row')),
    sa.CheckConstraint('key_firm_cadence_months > 0 AND other_firm_cadence_months > 0', name=op.f('ck_visit_settings_cadence_positive')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_visit_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_settings'))
    )
    op.create_table('project_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'in_progress', 'done', 'skipped', name='project_stage_status', native_enum=False, create_constraint=True, length=19), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("(status = 'done') = (completed_on IS NOT NULL)", name=op.f('ck_project_stages_done_has_completed_on')),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['units.id'], name=op.f('fk_project_stages_owner_unit_id_units')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_stages_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_stages'))
    )
    with op.batch_alter_table('project_stages', schema=None) as batch_op:
        batch_op.create_index('ix_project_stages_project_id', ['project_id'], unique=False)
        batch_op.create_index('ix_project_stages_status_due_on', ['status', 'due_on'], unique=False)

    op.create_table('visit_campaign_targets',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_visit_campaign_targets_assignee_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['visit_campaigns.id'], name=op.f('fk_visit_campaign_targets_campaign_id_visit_campaigns')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_visit_campaign_targets_firm_id_firms')),
    sa.PrimaryKeyConstraint('campaign_id', 'firm_id', name=op.f('pk_visit_campaign_targets'))
    )
    with op.batch_alter_table('visit_campaign_targets', schema=None) as batch_op:
        batch_op.create_index('ix_visit_campaign_targets_assignee_id', ['assignee_id'], unique=False)

    op.create_table('visit_campaign_visitors',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['visit_campaigns.id'], name=op.f('fk_visit_campaign_visitors_campaign_id_visit_campaigns')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visit_campaign_visitors_user_id_users')),
    sa.PrimaryKeyConstraint('campaign_id', 'user_id', name=op.f('pk_visit_campaign_visitors'))
    )
    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.Enum('onsite', 'phone', 'video', 'meeting', 'wechat', name='visit_mode', native_enum=False, create_constraint=True, length=15), nullable=False),
    sa.Column('lead_visitor_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('operating_status', sa.Text(), nullable=False),
    sa.Column('output_plan', sa.Text(), nullable=True),
    sa.Column('orders_plan', sa.Text(), nullable=True),
    sa.Column('employment_plan', sa.Text(), nullable=True),
    sa.Column('investment_plan', sa.Text(), nullable=True),
    sa.Column('policies_delivered', sa.Text(), nullable=True),
    sa.Column('confirmed_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(confirmed_at IS NULL) = (confirmed_by_contact_id IS NULL)', name=op.f('ck_visits_confirmation_complete')),
    sa.ForeignKeyConstraint(['campaign_id'], ['visit_campaigns.id'], name=op.f('fk_visits_campaign_id_visit_campaigns')),
    sa.ForeignKeyConstraint(['confirmed_by_contact_id'], ['contacts.id'], name=op.f('fk_visits_confirmed_by_contact_id_contacts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_visits_created_by_id_users')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_visits_firm_id_firms')),
    sa.ForeignKeyConstraint(['lead_visitor_id'], ['users.id'], name=op.f('fk_visits_lead_visitor_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_visits_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_index('ix_visits_firm_id_visited_at', ['firm_id', 'visited_at'], unique=False)
        batch_op.create_index('ix_visits_lead_visitor_id', ['lead_visitor_id'], unique=False)
        batch_op.create_index('ix_visits_unit_id_visited_at', ['unit_id', 'visited_at'], unique=False)
        batch_op.create_index('ix_visits_visited_at', ['visited_at'], unique=False)

    op.create_table('project_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_project_events_actor_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_events_project_id_projects')),
    sa.ForeignKeyConstraint(['stage_id'], ['project_stages.id'], name=op.f('fk_project_events_stage_id_project_stages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_events'))
    )
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.create_index('ix_project_events_project_id_at', ['project_id', 'at'], unique=False)

    op.create_table('project_tickets',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_project_tickets_linked_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_tickets_project_id_projects')),
    sa.ForeignKeyConstraint(['stage_id'], ['project_stages.id'], name=op.f('fk_project_tickets_stage_id_project_stages')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_project_tickets_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_project_tickets'))
    )
    with op.batch_alter_table('project_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_project_tickets_project_id', ['project_id'], unique=False)

    op.create_table('visit_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_visit_attachments_size_not_negative')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_visit_attachments_uploaded_by_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_attachments_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_visit_attachments_stored_name'))
    )
    with op.batch_alter_table('visit_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_visit_attachments_visit_id', ['visit_id'], unique=False)

    op.create_table('visit_contacts',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_visit_contacts_contact_id_contacts')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_contacts_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', 'contact_id', name=op.f('pk_visit_contacts'))
    )
    op.create_table('visit_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('is_solved_on_site', sa.Boolean(), nullable=False),
    sa.Column('solution', sa.Text(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(assigned_at IS NULL) = (ticket_id IS NULL)', name=op.f('ck_visit_issues_assigned_with_ticket')),
    sa.CheckConstraint('NOT (is_solved_on_site AND ticket_id IS NOT NULL)', name=op.f('ck_visit_issues_solved_on_site_has_no_ticket')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_visit_issues_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['ticket_categories.id'], name=op.f('fk_visit_issues_category_id_ticket_categories')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_visit_issues_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_issues_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_issues'))
    )
    with op.batch_alter_table('visit_issues', schema=None) as batch_op:
        batch_op.create_index('ix_visit_issues_ticket_id', ['ticket_id'], unique=True)
        batch_op.create_index('ix_visit_issues_visit_id', ['visit_id'], unique=False)

    op.create_table('visit_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'done', 'cancelled', name='visit_plan_status', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'done') = (visit_id IS NOT NULL)", name=op.f('ck_visit_plans_done_has_visit')),
    sa.ForeignKeyConstraint(['campaign_id'], ['visit_campaigns.id'], name=op.f('fk_visit_plans_campaign_id_visit_campaigns')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_visit_plans_firm_id_firms')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visit_plans_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_plans_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_plans'))
    )
    with op.batch_alter_table('visit_plans', schema=None) as batch_op:
        batch_op.create_index('ix_visit_plans_firm_id', ['firm_id'], unique=False)
        batch_op.create_index('ix_visit_plans_user_id_planned_on', ['user_id', 'planned_on'], unique=False)

    op.create_table('visit_purposes',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('policy_publicity', 'research', 'petition_reception', 'onsite_office', 'routine_liaison', 'key_project', name='visit_purpose', native_enum=False, create_constraint=True, length=26), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_purposes_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', 'purpose', name=op.f('pk_visit_purposes'))
    )
    op.create_table('visit_visitors',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visit_visitors_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_visitors_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', 'user_id', name=op.f('pk_visit_visitors'))
    )
    with op.batch_alter_table('visit_visitors', schema=None) as batch_op:
        batch_op.create_index('ix_visit_visitors_user_id', ['user_id'], unique=False)

    op.create_table('visit_issue_rechecks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=False),
    sa.Column('is_still_resolved', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_visit_issue_rechecks_checked_by_id_users')),
    sa.ForeignKeyConstraint(['issue_id'], ['visit_issues.id'], name=op.f('fk_visit_issue_rechecks_issue_id_visit_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_issue_rechecks'))
    )
    with op.batch_alter_table('visit_issue_rechecks', schema=None) as batch_op:
        batch_op.create_index('ix_visit_issue_rechecks_issue_id', ['issue_id'], unique=False)


    settings = sa.table("visit_settings", sa.column("id", sa.Integer),
                        sa.column("edit_window_days", sa.Integer),
                        sa.column("key_firm_cadence_months", sa.Integer),
                        sa.column("other_firm_cadence_months", sa.Integer),
                        sa.column("qualifying_modes", sa.String))
    op.bulk_insert(settings, [{"id": 1, "edit_window_days": 7, "key_firm_cadence_months": 3,
                               "other_firm_cadence_months": 12,
                               "qualifying_modes": "onsite,video,meeting"}])
    templates = sa.table("project_stage_templates", sa.column("name", sa.String),
                         sa.column("position", sa.Integer), sa.column("default_days", sa.Integer),
                         sa.column("is_active", sa.Boolean))
    op.bulk_insert(templates, [
        {"name": name, "position": n, "default_days": 30, "is_active": True}
        for n, name in enumerate(DEFAULT_STAGES, start=1)])


def downgrade():
    with op.batch_alter_table('visit_issue_rechecks', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_issue_rechecks_issue_id')

    op.drop_table('visit_issue_rechecks')
    with op.batch_alter_table('visit_visitors', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_visitors_user_id')

    op.drop_table('visit_visitors')
    op.drop_table('visit_purposes')
    with op.batch_alter_table('visit_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_plans_user_id_planned_on')
        batch_op.drop_index('ix_visit_plans_firm_id')

    op.drop_table('visit_plans')
    with op.batch_alter_table('visit_issues', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_issues_visit_id')
        batch_op.drop_index('ix_visit_issues_ticket_id')

    op.drop_table('visit_issues')
    op.drop_table('visit_contacts')
    with op.batch_alter_table('visit_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_attachments_visit_id')

    op.drop_table('visit_attachments')
    with op.batch_alter_table('project_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_project_tickets_project_id')

    op.drop_table('project_tickets')
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.drop_index('ix_project_events_project_id_at')

    op.drop_table('project_events')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_visited_at')
        batch_op.drop_index('ix_visits_unit_id_visited_at')
        batch_op.drop_index('ix_visits_lead_visitor_id')
        batch_op.drop_index('ix_visits_firm_id_visited_at')
        batch_op.drop_index('ix_visits_campaign_id')

    op.drop_table('visits')
    op.drop_table('visit_campaign_visitors')
    with op.batch_alter_table('visit_campaign_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_campaign_targets_assignee_id')

    op.drop_table('visit_campaign_targets')
    with op.batch_alter_table('project_stages', schema=None) as batch_op:
        batch_op.drop_index('ix_project_stages_status_due_on')
        batch_op.drop_index('ix_project_stages_project_id')

    op.drop_table('project_stages')
    op.drop_table('visit_settings')
    op.drop_table('visit_campaigns')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_firm_id')
        batch_op.drop_index('ix_projects_commissioner_id')

    op.drop_table('projects')
    op.drop_table('project_stage_templates')
