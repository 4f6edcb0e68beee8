"""Synthetic demo firms: Kunshan-like names, valid USCCs (registration code 320583), tags.

Deterministic (a fixed random seed) and idempotent: running it again adds nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.core.clock import now_utc
from app.extensions import db
from app.firms.models import (
    Area,
    CapitalOrigin,
    Contact,
    Firm,
    FirmTag,
    Industry,
    LegalForm,
    TagKind,
    TagLevel,
)
from app.firms.search import search_key
from app.firms.uscc import ALPHABET, complete

DEMO_FIRM_COUNT = 200

#: (class code, class name, words used in firm names)
DEMO_CLASSES = [
    ("C3911", "计算机整机制造", "电脑"), ("C3912", "计算机零部件制造", "电脑配件"),
    ("C3982", "电子电路制造", "电子科技"), ("C3484", "机械零部件加工", "精密机械"),
    ("C3670", "汽车零部件及配件制造", "汽车零部件"), ("C2927", "日用塑料制品制造", "塑胶制品"),
    ("C1713", "棉印染精加工", "纺织印染"), ("C3360", "金属表面处理及热处理加工", "表面处理"),
    ("C2710", "化学药品原料药制造", "医药"), ("C3581", "医疗诊断、监护及治疗设备制造", "医疗器械"),
    ("I6513", "应用软件开发", "软件"), ("I6450", "互联网数据服务", "数据科技"),
    ("F5179", "其他机械设备及电子产品批发", "贸易"), ("G5431", "普通货物道路运输", "物流"),
    ("H6110", "旅游饭店", "酒店管理"), ("H6210", "正餐服务", "餐饮管理"),
    ("M7320", "工程和技术研究和试验发展", "工程技术研究"), ("L7212", "投资与资产管理", "投资管理"),
    ("E4710", "住宅房屋建筑", "建设工程"), ("A0141", "蔬菜种植", "农业科技"),
    ("D4411", "火力发电", "热电"), ("K7010", "房地产开发经营", "置业"),
]
BRAND_CHARS = "鼎鑫恒泰华盛宏达晟锦瑞嘉铭源德翔联创捷昊润永祥美新隆丰钧璟凯腾"
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶"
            "蒋杜苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文玉兰志红俊晨宇欣怡佳雯"
TITLES = ["总经理", "副总经理", "财务总监", "人事经理", "行政主管", "董事长"]
ORIGINS = ([CapitalOrigin.TAIWAN] * 25 + [CapitalOrigin.DOMESTIC] * 55
           + [CapitalOrigin.HONG_KONG] * 6 + [CapitalOrigin.FOREIGN] * 8
           + [CapitalOrigin.MIXED] * 4 + [CapitalOrigin.MACAO] * 2)
STREETS = ["前进东路", "长江南路", "黄河中路", "萧林路", "花安路", "同丰路", "章基路", "祖冲之路"]


def _seed_classes() -> None:
    known = set(db.session.scalars(sa.select(Industry.code)))
    for code, name, _word in DEMO_CLASSES:
        if code not in known:
            db.session.add(Industry(code=code, section=code[0], name=name))
    db.session.flush()


def _uscc(rng: random.Random) -> str:
    body = "91320583" + "MA" + "".join(rng.choice(ALPHABET) for _ in range(7))
    return complete(body)


def _name(rng: random.Random, word: str, origin: CapitalOrigin, taken: set[str]) -> str:
    while True:
        brand = "".join(rng.sample(BRAND_CHARS, 2))
        suffix = "股份有限公司" if rng.random() < 0.15 else "有限公司"
        name = (f"{brand}{word}（昆山）{suffix}" if origin is not CapitalOrigin.DOMESTIC
                and rng.random() < 0.5 else f"昆山{brand}{word}{suffix}")
        if name not in taken:
            taken.add(name)
            return name


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _tags(rng: random.Random, today: date) -> list[FirmTag]:
    tags = []
    for kind in rng.sample(list(TagKind), rng.choice([0, 0, 1, 1, 2])):
        certified = today - timedelta(days=rng.randint(60, 1500))
        valid = certified + timedelta(days=3 * 365)
        tag = FirmTag(kind=kind, level=rng.choice(list(TagLevel)), certified_on=certified,
                      valid_until=None if kind is TagKind.LISTED else valid,
                      certificate_no=f"GR{certified.year}32{rng.randint(100000, 999999)}")
        if kind is TagKind.LISTED:
            tag.exchange, tag.ticker = rng.choice(["上海证券交易所", "深圳证券交易所"]), \
                f"{rng.randint(600000, 605999)}"
        tags.append(tag)
    return tags


def _firm(rng: random.Random, areas, commissioners, taken, today) -> Firm:
    code, _class_name, word = rng.choice(DEMO_CLASSES)
    origin = rng.choice(ORIGINS)
    is_key = rng.random() < 0.15
    commissioner = rng.choice(commissioners) if (is_key or rng.random() < 0.1) else None
    firm = Firm(uscc=_uscc(rng), name=_name(rng, word, origin, taken), area=rng.choice(areas),
                industry_code=code, industry_section=code[0], capital_origin=origin,
                legal_form=rng.choice([LegalForm.LIMITED_LIABILITY] * 6
                                      + [LegalForm.JOINT_STOCK, LegalForm.BRANCH]),
                address=f"昆山市{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                employees=rng.choice([8, 25, 60, 120, 300, 850, 2400]),
                is_key_firm=is_key and commissioner is not None, commissioner=commissioner,
                tags=_tags(rng, today))
    for primary in (True, False)[: rng.randint(1, 2)]:
        firm.contacts.append(Contact(
            name=_person(rng), title=rng.choice(TITLES), is_primary=primary,
            mobile=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            email=f"contact{rng.randint(100, 999)}@example.com",
            is_legal_representative=primary and rng.random() < 0.3))
    firm.search_key = search_key(firm.name, firm.uscc, None, [c.name for c in firm.contacts])
    return firm


def seed_firms(count: int = DEMO_FIRM_COUNT) -> int:
    """Add the demo firms that are missing; returns how many were created."""
    _seed_classes()
    rng = random.Random(320583)
    areas = list(db.session.scalars(sa.select(Area).order_by(Area.id)))
    commissioners = list(db.session.scalars(
        sa.select(User).where(User.username.in_(["handler", "lead"])).order_by(User.id)))
    if not commissioners or not areas:
        return 0
    existing = set(db.session.scalars(sa.select(Firm.uscc)))
    taken = set(db.session.scalars(sa.select(Firm.name)))
    today = now_utc().date()
    created = 0
    for _ in range(count):
        firm = _firm(rng, areas, commissioners, set(), today)
        if firm.uscc in existing:
            continue
        if firm.name in taken:
            continue
        taken.add(firm.name)
        db.session.add(firm)
        created += 1
    db.session.flush()
    return created
