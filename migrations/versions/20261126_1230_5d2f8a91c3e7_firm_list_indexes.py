"""Firm list indexes for 100,000 firms: covering sort indexes and the common filter combinations.

The three list orders (name, registration date, employees) get an index ending in the id
tie-break that also carries every filter column (PostgreSQL ``INCLUDE``), so the ids of a
page — even at OFFSET 50,000, or under filters — are read from the index alone and only the
page's 25 rows are fetched from the table. They replace the single-column sort indexes.
Partial indexes over active firms cover the common filter combinations (area + industry
section + capital origin, capital origin + section, key firms by commissioner), so the match
count of a filtered list is taken from the index too.

Revision ID: 5d2f8a91c3e7
Revises: 0544d8af4675
Create Date: 2026-11-26 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5d2f8a91c3e7"
down_revision = "0544d8af4675"
branch_labels = None
depends_on = None

FILTER_COLUMNS = ["archived_at", "area_id", "industry_section", "capital_origin", "is_key_firm",
                  "commissioner_id"]
SORT_COLUMNS = ("name", "created_at", "employees")
ACTIVE = "archived_at IS NULL"
PARTIAL = (
    ("ix_firms_active_area_section_origin", ["area_id", "industry_section", "capital_origin"],
     ACTIVE),
    ("ix_firms_active_origin_section", ["capital_origin", "industry_section"], ACTIVE),
    ("ix_firms_active_key_commissioner_id_id", ["commissioner_id", "id"],
     f"is_key_firm AND {ACTIVE}"),
)


def upgrade():
    with op.batch_alter_table("firms", schema=None) as batch_op:
        for column in SORT_COLUMNS:
            batch_op.drop_index(f"ix_firms_{column}")
            batch_op.create_index(f"ix_firms_{column}_id", [column, "id"], unique=False,
                                  postgresql_include=FILTER_COLUMNS)
        for name, columns, where in PARTIAL:
            batch_op.create_index(name, columns, unique=False,
                                  postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade():
    with op.batch_alter_table("firms", schema=None) as batch_op:
        for name, _columns, _where in reversed(PARTIAL):
            batch_op.drop_index(name)
        for column in reversed(SORT_COLUMNS):
            batch_op.drop_index(f"ix_firms_{column}_id")
            batch_op.create_index(f"ix_firms_{column}", [column], unique=False)
