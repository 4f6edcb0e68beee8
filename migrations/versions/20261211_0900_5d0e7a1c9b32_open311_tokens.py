"""Open311 GeoReport v2: the token a service request was answered with, on its ticket link.

Revision ID: 5d0e7a1c9b32
Revises: 039f34105834
Create Date: 2026-12-05 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5d0e7a1c9b32'
down_revision = '039f34105834'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_ticket_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open311_token', sa.String(length=43), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_api_ticket_links_open311_token'),
                                          ['open311_token'])


def downgrade():
    with op.batch_alter_table('api_ticket_links', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_api_ticket_links_open311_token'), type_='unique')
        batch_op.drop_column('open311_token')
