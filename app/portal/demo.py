"""Demo answer snippets for the 马上办 fast path (part of ``flask demo seed``)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.portal.models import AnswerSnippet

DEMO_SNIPPETS = [
    ("稳岗返还政策", "符合条件的企业无需申请，人社部门将稳岗返还资金直接拨付至企业对公账户。"
                   "如需查询进度，请拨打 0512-12333。"),
    ("高新技术企业认定", "高新技术企业认定每年分批受理，申报系统为“高企认定管理工作网”。"
                      "科技局提供免费辅导，预约电话 0512-57300000。"),
    ("用电报装", "新装或增容用电请通过“网上国网”App 提交申请，"
               "供电公司将在 3 个工作日内联系现场勘查。"),
]


def seed_snippets() -> int:
    """Add the demo snippets that are missing; returns how many were created."""
    existing = set(db.session.scalars(sa.select(AnswerSnippet.title)))
    created = 0
    for title, body in DEMO_SNIPPETS:
        if title not in existing:
            db.session.add(AnswerSnippet(title=title, body=body, is_active=True, used_count=0))
            created += 1
    db.session.flush()
    return created
