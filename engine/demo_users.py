"""The demo users documented in the README: one password and one signing PIN for all."""

from __future__ import annotations

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
    ("admin", "蒋管理", ("admin",), "信息科"),
)
