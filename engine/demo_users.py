"""The demo users documented in the README: one password and one signing PIN for all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

DEMO_PASSWORD = "demo-pass-2026"
DEMO_PIN = "123456"

DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("clerk", "李受理", ("intake",), "投诉举报中心"),
    ("officer1", "王承办", ("officer",), "公共场所卫生监督科"),
    ("officer2", "赵承办", ("officer",), "公共场所卫生监督科"),
    ("officer3", "孙承办", ("officer",), "医疗卫生监督科"),
    ("panel1", "周合议", ("panel",), "法制稽查科"),
    ("panel2", "吴合议", ("panel",), "法制稽查科"),
    ("panel3", "郑合议", ("panel",), "医疗卫生监督科"),
    ("legal", "冯法制", ("legal",), "法制稽查科"),
    ("head", "陈局长", ("head",), "局领导"),
    ("head2", "韩副局长", ("head",), "局领导"),
    ("publisher", "褚公示", ("publisher",), "办公室"),
    ("auditor", "卫审计", ("auditor",), "审计组"),
    # The city's 督查 (issue 16): reads its districts' cases and figures, flags a case for 挂牌督办 and closes it.
    ("supervisor", "魏督查", ("supervisor",), "稽查督办科"),
    ("admin", "蒋管理", ("admin",), "信息科"),
)

# 执法证号 and their last valid day (行政处罚法 第四十二条): the officers, the panel members, the legal reviewer and
# the heads hold one, as in an agency where they are all 卫生监督员; the clerk, the publisher, the auditor and
# the administrator do not. Valid for years to come, so the demo and the tests keep working.
DEMO_CERTIFICATES: dict[str, tuple[str, dt.date]] = {
    "officer1": ("呈卫执 2023-0101", dt.date(2031, 6, 30)),
    "officer2": ("呈卫执 2023-0102", dt.date(2031, 6, 30)),
    "officer3": ("呈卫执 2024-0217", dt.date(2032, 3, 31)),
    "panel1": ("呈卫执 2021-0033", dt.date(2031, 12, 31)),
    "panel2": ("呈卫执 2022-0058", dt.date(2031, 12, 31)),
    "panel3": ("呈卫执 2022-0064", dt.date(2031, 12, 31)),
    "legal": ("呈卫执 2020-0007", dt.date(2031, 12, 31)),
    "head": ("呈卫执 2019-0001", dt.date(2031, 12, 31)),
    "head2": ("呈卫执 2019-0002", dt.date(2031, 12, 31)),
}


def demo_certificate(user_id: str) -> dict[str, Any]:
    """The AddUser keywords of a demo user's 执法证 (none for those who hold none)."""
    held = DEMO_CERTIFICATES.get(user_id)
    return {} if held is None else {"cert_no": held[0], "cert_valid_until": held[1]}


# The demo platform (issue 16): the city 呈州市 is the home agency (settings.json `agency`, code cz); two of its
# districts each have an agency of their own, with their own prefixes and the people a case needs.
@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    short: str
    case_number_prefix: str
    penalty_number_prefix: str
    review_agency: str
    court: str
    cert_prefix: str  # of its people's 执法证号
    names: tuple[str, ...]  # its people's names, in DEMO_USERS order less the auditor and the administrator
    # What the law lets it set for itself (settings.json agency_settings): 西山区 applies its own published 裁量基准
    # (a sample in workflows/discretion_benchmark.dmn), so the demo shows two benchmarks on one platform.
    settings: tuple[tuple[str, str], ...] = ()


DEMO_AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency("cz-hp", "呈州市和平区卫生健康局", "和卫", "和卫投", "和卫罚", "呈州市和平区人民政府",
               "呈州市和平区人民法院", "和卫执",
               ("刘受理", "杨承办", "黄承办", "何承办", "林合议", "高合议", "罗合议", "梁法制", "宋局长", "唐副局长", "许公示")),
    DemoAgency("cz-xs", "呈州市西山区卫生健康局", "西卫", "西卫投", "西卫罚", "呈州市西山区人民政府",
               "呈州市西山区人民法院", "西卫执",
               ("邓受理", "萧承办", "曹承办", "彭承办", "曾合议", "田合议", "董合议", "潘法制", "袁局长", "蔡副局长", "蒋公示"),
               settings=(("discretion.benchmark", "cz-xs-2026"),)),
)
# Who works only at the city's (the platform's) level: the auditor, the supervisor who oversees the districts, and
# the administrator.
PLATFORM_ONLY = ("auditor", "supervisor", "admin")


def district_user_id(agency: DemoAgency, user_id: str) -> str:
    """hp.officer1: the district's counterpart of the city's demo user `user_id`."""
    return f"{agency.code.rsplit('-', 1)[-1]}.{user_id}"


def agency_users(agency: DemoAgency) -> tuple[tuple[str, str, tuple[str, ...], str], ...]:
    """The district's demo users, one for each of the city's (less PLATFORM_ONLY), as DEMO_USERS lists them."""
    city = [u for u in DEMO_USERS if u[0] not in PLATFORM_ONLY]
    return tuple((district_user_id(agency, uid), name, roles, unit)
                 for (uid, _, roles, unit), name in zip(city, agency.names, strict=True))


def agency_certificate(agency: DemoAgency, user_id: str) -> dict[str, Any]:
    """The AddUser keywords of the district user `user_id`'s 执法证 (the same people hold one as in the city)."""
    held = DEMO_CERTIFICATES.get(user_id.split(".", 1)[-1])
    if held is None:
        return {}
    return {"cert_no": held[0].replace("呈卫执", agency.cert_prefix), "cert_valid_until": held[1]}


def cast_of(agency: DemoAgency) -> dict[str, str]:
    """The city's demo user -> the district's, to play a demo scenario with the district's people."""
    return {uid: district_user_id(agency, uid) for uid, *_ in DEMO_USERS if uid not in PLATFORM_ONLY}
