"""A penalty case whose 调查终结报告 says something of its own, for the tests of data carried forward (issue 15):
what the notice and the decision start from is then visibly the report's, not a sample."""

from __future__ import annotations

import dataclasses

from engine.spiff.driving import Scenario
from tests.web.webcases import scenario

REPORT = {"facts": "2026年9月14日，呈州市丽人美容店未取得公共场所卫生许可证擅自营业，已营业三个月。",
          "evidence_summary": "现场检查笔录、询问笔录、营业执照复印件、现场照片 6 张",
          "legal_basis": "《公共场所卫生管理条例实施细则》第二十二条第一款、第三十五条第一款"}
FACTS_AND_EVIDENCE = f"{REPORT['facts']}\n证据：{REPORT['evidence_summary']}"


def carried_scenario() -> Scenario:
    """The default penalty case with REPORT as its 调查终结报告, notified as it was carried into the 告知书."""
    base = scenario()
    report = next(s for s in base.steps if s.spec_id == "investigation_report")
    notice = next(s for s in base.steps if s.spec_id == "prior_notice")
    as_carried = {"notified_facts": REPORT["facts"], "notified_reasons": REPORT["legal_basis"]}
    return scenario(replace_steps={
        "investigation_report": dataclasses.replace(report, overrides={**report.overrides, **REPORT}),
        "prior_notice": dataclasses.replace(notice, overrides={**notice.overrides, **as_carried})})
