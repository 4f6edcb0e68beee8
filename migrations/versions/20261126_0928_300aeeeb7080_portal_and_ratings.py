"""Public portal and ratings: firm accounts, answer snippets, 好差评 and rectifications.

Adds ``users.firm_id`` with the rule that a firm account always belongs to a registry firm
(pending requests wait in ``firm_registrations``, so no half-made users exist), the 马上办
answer snippets, the rating details and 差评 rectifications of DOMAIN §4, and the one-row
rating settings seeded with the defaults (5 working days, extendable to 15).

Revision ID: 300aeeeb7080
Revises: a866f7845724
Create Date: 2026-11-26 09:28:37.852253
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '300aeeeb7080'
down_revision = 'a866f7845724'
branch_labels = None
depends_on = None


def upgrade():
    _refuse_orphan_firm_users()
    op.create_table('rating_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_days', sa.Integer(), nullable=False),
    sa.Column('rectification_max_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_rating_settings_single_row')),
    sa.CheckConstraint('rectification_days >= 1', name=op.f('ck_rating_settings_days_positive')),
    sa.CheckConstraint('rectification_max_days >= rectification_days', name=op.f('ck_rating_settings_max_not_below_default')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_settings'))
    )
    op.create_table('answer_snippets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('used_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['ticket_categories.id'], name=op.f('fk_answer_snippets_category_id_ticket_categories')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_answer_snippets_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_snippets')),
    sa.UniqueConstraint('title', name=op.f('uq_answer_snippets_title'))
    )
    op.create_table('firm_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_token', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='registration_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('firm_name', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=64), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('preferred_language', sa.String(length=16), nullable=True),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'approved') = (user_id IS NOT NULL AND firm_id IS NOT NULL)", name=op.f('ck_firm_registrations_approved_has_account_and_firm')),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_firm_registrations_decided_has_decided_at')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_firm_registrations_decided_by_id_users')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_registrations_firm_id_firms')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_firm_registrations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_firm_registrations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_registrations')),
    sa.UniqueConstraint('public_token', name=op.f('uq_firm_registrations_public_token'))
    )
    with op.batch_alter_table('firm_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_firm_registrations_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_firm_registrations_uscc', ['uscc'], unique=False)

    op.create_table('ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('link', 'portal', 'phone', 'sms', 'in_person', name='rating_channel', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('evaluator_user_id', sa.Integer(), nullable=True),
    sa.Column('evaluator_name', sa.String(length=64), nullable=True),
    sa.Column('evaluator_mobile', sa.String(length=20), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('link', 'portal') OR recorded_by_id IS NOT NULL", name=op.f('ck_ratings_recorded_channel_has_recorder')),
    sa.ForeignKeyConstraint(['evaluator_user_id'], ['users.id'], name=op.f('fk_ratings_evaluator_user_id_users')),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_ratings_handler_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_ratings_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ratings_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ratings_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_ratings_ticket_id'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_unit_id_rated_at', ['unit_id', 'rated_at'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('awaiting_callback', 'awaiting_classification', 'in_progress', 'appealed', 'awaiting_feedback', 'closed', name='rectification_status', native_enum=False, create_constraint=True, length=31), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('callback_by_id', sa.Integer(), nullable=True),
    sa.Column('callback_note', sa.Text(), nullable=True),
    sa.Column('classification', sa.Enum('fix_now', 'fix_by_deadline', 'explain', 'appeal', name='rectification_classification', native_enum=False, create_constraint=True, length=23), nullable=True),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('classified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('classified_by_id', sa.Integer(), nullable=True),
    sa.Column('appeal_reason', sa.Text(), nullable=True),
    sa.Column('appeal_upheld', sa.Boolean(), nullable=True),
    sa.Column('appeal_decision_reason', sa.Text(), nullable=True),
    sa.Column('appeal_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appeal_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('extension_status', sa.Enum('requested', 'approved', 'rejected', name='rectification_extension', native_enum=False, create_constraint=True, length=17), nullable=True),
    sa.Column('extension_days', sa.Integer(), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('extension_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('resulted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resulted_by_id', sa.Integer(), nullable=True),
    sa.Column('feedback_level', sa.Enum('satisfied', 'basically_satisfied', 'unsatisfied', name='rectification_feedback_level', native_enum=False, create_constraint=True, length=27), nullable=True),
    sa.Column('feedback_channel', sa.Enum('link', 'portal', 'phone', 'sms', 'in_person', name='rectification_feedback_channel', native_enum=False, create_constraint=True, length=17), nullable=True),
    sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_rectifications_closed_has_closed_at')),
    sa.CheckConstraint("classification <> 'fix_by_deadline' OR plan IS NOT NULL", name=op.f('ck_rectifications_deadline_fix_has_plan')),
    sa.CheckConstraint("status <> 'awaiting_feedback' OR result IS NOT NULL", name=op.f('ck_rectifications_feedback_follows_result')),
    sa.CheckConstraint("status = 'awaiting_callback' OR callback_at IS NOT NULL", name=op.f('ck_rectifications_verified_has_callback')),
    sa.CheckConstraint("status NOT IN ('in_progress', 'appealed', 'awaiting_feedback') OR classification IS NOT NULL", name=op.f('ck_rectifications_classified_has_classification')),
    sa.CheckConstraint('due_days BETWEEN 1 AND 60', name=op.f('ck_rectifications_due_days_in_range')),
    sa.ForeignKeyConstraint(['appeal_decided_by_id'], ['users.id'], name=op.f('fk_rectifications_appeal_decided_by_id_users')),
    sa.ForeignKeyConstraint(['callback_by_id'], ['users.id'], name=op.f('fk_rectifications_callback_by_id_users')),
    sa.ForeignKeyConstraint(['classified_by_id'], ['users.id'], name=op.f('fk_rectifications_classified_by_id_users')),
    sa.ForeignKeyConstraint(['extension_decided_by_id'], ['users.id'], name=op.f('fk_rectifications_extension_decided_by_id_users')),
    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], name=op.f('fk_rectifications_rating_id_ratings')),
    sa.ForeignKeyConstraint(['resulted_by_id'], ['users.id'], name=op.f('fk_rectifications_resulted_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_rectifications_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_rectifications_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications')),
    sa.UniqueConstraint('rating_id', name=op.f('uq_rectifications_rating_id'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index('ix_rectifications_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_rectifications_unit_id_status', ['unit_id', 'status'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('firm_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_firm_id'), ['firm_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_firm_id_firms'), 'firms', ['firm_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_users_firm_user_has_firm'), "role <> 'firm_user' OR firm_id IS NOT NULL")

    settings = sa.table('rating_settings', sa.column('id', sa.Integer),
                        sa.column('rectification_days', sa.Integer),
                        sa.column('rectification_max_days', sa.Integer),
                        sa.column('updated_at', sa.DateTime(timezone=True)))
    op.bulk_insert(settings, [{'id': 1, 'rectification_days': 5, 'rectification_max_days': 15,
                               'updated_at': datetime.now(UTC)}])


def _refuse_orphan_firm_users():
    """Firm accounts made before accounts were linked to firms cannot satisfy the new rule."""
    orphans = op.get_bind().execute(
        sa.text("SELECT username FROM users WHERE role = 'firm_user'")).scalars().all()
    if orphans:
        raise RuntimeError("Firm accounts without a firm exist (" + ", ".join(orphans) + "); "
                           "deactivate and re-create them through the portal registration.")



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_firm_user_has_firm'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_users_firm_id_firms'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_firm_id'))
        batch_op.drop_column('firm_id')

    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index('ix_rectifications_unit_id_status')
        batch_op.drop_index('ix_rectifications_status_due_at')

    op.drop_table('rectifications')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_unit_id_rated_at')

    op.drop_table('ratings')
    with op.batch_alter_table('firm_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_firm_registrations_uscc')
        batch_op.drop_index('ix_firm_registrations_status_created_at')

    op.drop_table('firm_registrations')
    op.drop_table('answer_snippets')
    op.drop_table('rating_settings')
