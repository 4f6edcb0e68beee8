"""Firms registry: areas, industries, firms, tags, contacts, name history, legacy USCCs.

Revision ID: 78404b6c6ffe
Revises: e546ce9644a6
Create Date: 2026-11-26 09:18:20

Seeds the Kunshan areas (DOMAIN §2; the tourist resort area is the parent of its three towns)
and the 20 GB/T 4754-2017 sections with their two-digit division ranges, so any 4-digit class
can be placed in its section. On PostgreSQL the firm search key gets a trigram index (pg_trgm),
which keeps substring search fast on 100,000 firms.
"""

import sqlalchemy as sa
from alembic import op

revision = '78404b6c6ffe'
down_revision = 'e546ce9644a6'
branch_labels = None
depends_on = None

# Copied (not imported) from the domain rules: a migration must not change when app code does.
AREAS = [
    ("昆山开发区", None), ("昆山高新区", None), ("花桥经济开发区", None),
    ("昆山旅游度假区", None), ("张浦镇", None), ("周市镇", None), ("陆家镇", None),
    ("巴城镇", None), ("千灯镇", None), ("淀山湖镇", "昆山旅游度假区"),
    ("周庄镇", "昆山旅游度假区"), ("锦溪镇", "昆山旅游度假区"),
]

SECTIONS = [
    ("A", "农、林、牧、渔业", 1, 5),
    ("B", "采矿业", 6, 12),
    ("C", "制造业", 13, 43),
    ("D", "电力、热力、燃气及水生产和供应业", 44, 46),
    ("E", "建筑业", 47, 50),
    ("F", "批发和零售业", 51, 52),
    ("G", "交通运输、仓储和邮政业", 53, 60),
    ("H", "住宿和餐饮业", 61, 62),
    ("I", "信息传输、软件和信息技术服务业", 63, 65),
    ("J", "金融业", 66, 69),
    ("K", "房地产业", 70, 70),
    ("L", "租赁和商务服务业", 71, 72),
    ("M", "科学研究和技术服务业", 73, 75),
    ("N", "水利、环境和公共设施管理业", 76, 79),
    ("O", "居民服务、修理和其他服务业", 80, 82),
    ("P", "教育", 83, 83),
    ("Q", "卫生和社会工作", 84, 85),
    ("R", "文化、体育和娱乐业", 86, 90),
    ("S", "公共管理、社会保障和社会组织", 91, 96),
    ("T", "国际组织", 97, 97),
]

LEGAL_FORMS = ('limited_liability', 'joint_stock', 'sole_proprietorship', 'partnership',
               'individual_business', 'branch', 'other')
CAPITAL_ORIGINS = ('domestic', 'taiwan', 'hong_kong', 'macao', 'foreign', 'mixed')
TAG_KINDS = ('high_tech', 'specialised', 'little_giant', 'gazelle', 'unicorn', 'listed',
             'above_scale')
TAG_LEVELS = ('national', 'provincial', 'municipal', 'county')

FIRM_INDEXES = ("archived_at", "area_id", "capital_origin", "commissioner_id", "created_at",
                "employees", "industry_section", "is_key_firm", "name")


def _enum(values, name, length):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def upgrade():
    areas = op.create_table(
        'areas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], name=op.f('fk_areas_parent_id_areas')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
        sa.UniqueConstraint('name', name=op.f('uq_areas_name')),
    )
    industries = op.create_table(
        'industries',
        sa.Column('code', sa.String(length=5), nullable=False),
        sa.Column('section', sa.String(length=1), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('division_from', sa.Integer(), nullable=True),
        sa.Column('division_to', sa.Integer(), nullable=True),
        sa.CheckConstraint('substr(code, 1, 1) = section',
                           name=op.f('ck_industries_code_in_section')),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_industries')),
    )
    op.create_table(
        'firms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uscc', sa.String(length=18), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('english_name', sa.String(length=200), nullable=True),
        sa.Column('search_key', sa.Text(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('industry_code', sa.String(length=5), nullable=False),
        sa.Column('industry_section', sa.String(length=1), nullable=False),
        sa.Column('legal_form', _enum(LEGAL_FORMS, 'legal_form', 27), nullable=False),
        sa.Column('capital_origin', _enum(CAPITAL_ORIGINS, 'capital_origin', 17), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=True),
        sa.Column('employees', sa.Integer(), nullable=True),
        sa.Column('is_key_firm', sa.Boolean(), nullable=False),
        sa.Column('commissioner_id', sa.Integer(), nullable=True),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('NOT is_key_firm OR commissioner_id IS NOT NULL',
                           name=op.f('ck_firms_key_firm_has_commissioner')),
        sa.CheckConstraint('employees IS NULL OR employees >= 0',
                           name=op.f('ck_firms_employees_not_negative')),
        sa.CheckConstraint('substr(industry_code, 1, 1) = industry_section',
                           name=op.f('ck_firms_industry_code_in_section')),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_firms_area_id_areas')),
        sa.ForeignKeyConstraint(['commissioner_id'], ['users.id'],
                                name=op.f('fk_firms_commissioner_id_users')),
        sa.ForeignKeyConstraint(['industry_section'], ['industries.code'],
                                name=op.f('fk_firms_industry_section_industries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firms')),
        sa.UniqueConstraint('uscc', name=op.f('uq_firms_uscc')),
    )
    with op.batch_alter_table('firms', schema=None) as batch_op:
        for column in FIRM_INDEXES:
            batch_op.create_index(f'ix_firms_{column}', [column], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index('ix_firms_search_key_trgm', 'firms', ['search_key'], unique=False,
                    postgresql_using='gin', postgresql_ops={'search_key': 'gin_trgm_ops'})

    op.create_table(
        'legacy_usccs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uscc', sa.String(length=18), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('accepted_by_id', sa.Integer(), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'],
                                name=op.f('fk_legacy_usccs_accepted_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_usccs')),
        sa.UniqueConstraint('uscc', name=op.f('uq_legacy_usccs_uscc')),
    )
    op.create_table(
        'contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=64), nullable=True),
        sa.Column('mobile', sa.String(length=20), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('is_legal_representative', sa.Boolean(), nullable=False),
        sa.Column('is_primary', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_contacts_firm_id_firms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    )
    op.create_index('ix_contacts_firm_id', 'contacts', ['firm_id'], unique=False)
    op.create_table(
        'firm_name_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('old_name', sa.String(length=200), nullable=False),
        sa.Column('new_name', sa.String(length=200), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'],
                                name=op.f('fk_firm_name_changes_changed_by_id_users')),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                                name=op.f('fk_firm_name_changes_firm_id_firms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_name_changes')),
    )
    op.create_index('ix_firm_name_changes_firm_id', 'firm_name_changes', ['firm_id'],
                    unique=False)
    op.create_table(
        'firm_tags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum(TAG_KINDS, 'tag_kind', 20), nullable=False),
        sa.Column('level', _enum(TAG_LEVELS, 'tag_level', 18), nullable=True),
        sa.Column('certified_on', sa.Date(), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('certificate_no', sa.String(length=64), nullable=True),
        sa.Column('exchange', sa.String(length=50), nullable=True),
        sa.Column('ticker', sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            'valid_until IS NULL OR certified_on IS NULL OR valid_until >= certified_on',
            name=op.f('ck_firm_tags_validity_ordered')),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_tags_firm_id_firms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_tags')),
    )
    op.create_index('ix_firm_tags_firm_id', 'firm_tags', ['firm_id'], unique=False)
    op.create_index('ix_firm_tags_kind_firm_id', 'firm_tags', ['kind', 'firm_id'], unique=False)
    _seed(areas, industries)


def _seed(areas, industries):
    op.bulk_insert(industries, [
        {"code": code, "section": code, "name": name, "division_from": low, "division_to": high}
        for code, name, low, high in SECTIONS])
    ids = {name: n for n, (name, _parent) in enumerate(AREAS, start=1)}
    op.bulk_insert(areas, [
        {"id": ids[name], "name": name, "parent_id": ids.get(parent), "position": ids[name]}
        for name, parent in AREAS])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('areas', 'id'), "
                   "(SELECT max(id) FROM areas))")


def downgrade():
    op.drop_index('ix_firm_tags_kind_firm_id', table_name='firm_tags')
    op.drop_index('ix_firm_tags_firm_id', table_name='firm_tags')
    op.drop_table('firm_tags')
    op.drop_index('ix_firm_name_changes_firm_id', table_name='firm_name_changes')
    op.drop_table('firm_name_changes')
    op.drop_index('ix_contacts_firm_id', table_name='contacts')
    op.drop_table('contacts')
    op.drop_table('legacy_usccs')
    op.drop_index('ix_firms_search_key_trgm', table_name='firms')
    with op.batch_alter_table('firms', schema=None) as batch_op:
        for column in reversed(FIRM_INDEXES):
            batch_op.drop_index(f'ix_firms_{column}')
    op.drop_table('firms')
    op.drop_table('industries')
    op.drop_table('areas')
