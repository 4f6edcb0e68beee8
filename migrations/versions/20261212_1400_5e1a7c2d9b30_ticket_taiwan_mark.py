"""涉台 as a mark on the ticket beside the firm's own category (issue 16).

Revision ID: 5e1a7c2d9b30
Revises: 5d0e7a1c9b32
Create Date: 2026-12-12 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c2d9b30'
down_revision = '5d0e7a1c9b32'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: a batch copy of ``tickets`` on SQLite would lose
    # its expression indexes.
    op.add_column('tickets', sa.Column('is_taiwan_related', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade():
    op.drop_column('tickets', 'is_taiwan_related')
