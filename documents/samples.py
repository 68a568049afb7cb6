"""Realistic demo data for every 文书 (an illustrative case, not law): plain dicts as forms produce them.

Used by the tests, the benchmark and previews. The case: 呈州市某某美容店 used a 消毒 product without a
valid 卫生许可 record and its staff lacked 健康合格证明 (公共场所卫生管理条例实施细则 — EX values).
"""

from __future__ import annotations

import base64
import copy
import io
import math
from functools import lru_cache
from typing import Any

AGENCY = "呈州市卫生健康委员会"
CASE = "呈卫案〔2026〕0012号"
PARTY: dict[str, Any] = {
    "name": "呈州市某某美容店",
    "kind": "organization",
    "credit_code": "92330100MA2H7X8K5Q",
    "legal_representative": "王某某",
    "address": "呈州市东城区解放路188号",
    "phone": "0571-87001234",
}
OFFICERS = [
    {"name": "李明", "cert_number": "呈卫执字第0231号"},
    {"name": "陈静", "cert_number": "呈卫执字第0247号"},
]
FACTS = (
    "2026年3月5日，本机关执法人员对你店进行监督检查时发现，你店3名从业人员（张某、刘某、赵某）未取得有效健康合格证明即从事"
    "直接为顾客服务的工作；你店未按规定对顾客用品用具进行清洗、消毒，现场消毒间内无消毒记录。"
)
BASIS = "《公共场所卫生管理条例实施细则》第三十八条第一款"
VIOLATED = "《公共场所卫生管理条例实施细则》第十条、第十四条"
EVIDENCE = [
    {"name": "现场笔录1份", "detail": "2026年3月5日制作，记载从业人员及消毒间现场情况"},
    {"name": "询问笔录1份", "detail": "对负责人王某某的询问"},
    {"name": "现场照片6张"},
    {"name": "营业执照复印件1份"},
]
PENALTIES = [{"kind": "警告"}, {"kind": "罚款", "amount": "5000"}]


@lru_cache(maxsize=8)
def drawn_signature(strokes: int = 3, *, width: int = 600, height: int = 200) -> str:
    """A handwritten-looking signature as a <canvas> exports it: a PNG data URL (transparent, dark ink)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for stroke in range(strokes):
        left = 40 + stroke * (width - 80) // strokes
        points = [(left + t * 1.6, height / 2 + 45 * math.sin(t / 9 + stroke) * math.cos(t / 23))
                  for t in range(0, (width - 80) // strokes * 5 // 8)]
        pen.line(points, fill=(20, 20, 60, 255), width=5, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _head(doc_number: str = "", date: str = "2026-03-20") -> dict[str, Any]:
    return {"agency": AGENCY, "case_number": CASE, "doc_number": doc_number, "date": date}


_SAMPLES: dict[str, dict[str, Any]] = {
    "complaint_registration": {
        **_head("呈卫投〔2026〕0031号", "2026-03-02"), "channel": "12345热线",
        "received_at": "2026-03-02T09:41:00+08:00", "complainant_name": "周某", "complainant_phone": "13900001111",
        "respondent": PARTY, "content": "反映该店美容师无健康证上岗，毛巾重复使用未消毒。", "registrar": "吴芳",
        "assignment_opinion": "转监督一科核查处理。", "assigned_by": "郑国强",
    },
    "case_acceptance": {
        **_head("", "2026-03-05"), "source": "投诉举报", "source_detail": "呈卫投〔2026〕0031号",
        "party": PARTY, "summary": FACTS, "accepted_by": "李明", "head_opinion": "同意受理，请核查后报立案。",
        "head": "郑国强",
    },
    "case_transfer": {
        **_head("呈卫移〔2026〕002号", "2026-03-21"), "recipient": "呈州市市场监督管理局", "party": PARTY,
        "reason": "涉及销售未取得备案的化妆品，不属于本机关管辖", "summary": "执法人员在检查中发现该店销售的“某某祛斑霜”无中文标签。",
        "legal_basis": "《中华人民共和国行政处罚法》第二十二条", "evidence": [{"name": "现场照片2张"}],
        "contact": "李明", "contact_phone": "0571-87005678",
    },
    "case_filing_report": {
        **_head("", "2026-03-06"), "cause": "涉嫌从业人员未取得健康合格证明上岗、未按规定清洗消毒顾客用品用具案",
        "party": PARTY, "source": "投诉举报（呈卫投〔2026〕0031号）", "summary": FACTS,
        "filing_basis": "《中华人民共和国行政处罚法》第五十四条", "handlers": OFFICERS,
        "approval_opinion": "同意立案，由李明、陈静承办。", "approver": "郑国强", "filing_date": "2026-03-06",
    },
    "non_filing_notice": {
        **_head("呈卫不立〔2026〕003号", "2026-03-12"), "recipient": "周某", "received_date": "2026-03-02",
        "subject": "反映呈州市某某美发店使用过期染发剂的举报", "reason": "现场未发现所反映的违法事实，",
        "legal_basis": "《中华人民共和国行政处罚法》第五十四条",
    },
    "on_site_record": {
        **_head("", "2026-03-05"), "party": PARTY, "started_at": "2026-03-05T10:05:00+08:00",
        "ended_at": "2026-03-05T10:50:00+08:00", "place": "呈州市东城区解放路188号", "officers": OFFICERS,
        "present_person": "王某某", "present_person_title": "店长",
        "findings": "1. 该店营业中，现场有美容师3名（张某、刘某、赵某），均未能出示有效健康合格证明。\n"
                    "2. 消毒间内紫外线消毒柜未通电，柜内存放毛巾12条，未见消毒记录。\n3. 现场拍摄照片6张。",
        "party_signature": {"image": drawn_signature(), "signer_name": "王某某"},
    },
    "inquiry_record": {
        **_head("", "2026-03-05"), "interviewee_name": "王某某", "interviewee_id_number": "330102198805061234",
        "interviewee_position": "店长", "interviewee_phone": "13800002222", "relation": "法定代表人",
        "party": PARTY, "started_at": "2026-03-05T11:00:00+08:00", "ended_at": "2026-03-05T11:35:00+08:00",
        "place": "呈州市卫生健康委员会询问室", "interviewers": OFFICERS, "recorder": "陈静",
        "qa": [
            {"question": "你店的美容师是否取得健康合格证明？", "answer": "张某、刘某、赵某三人是上个月新来的，还没来得及办。"},
            {"question": "顾客用的毛巾如何消毒？", "answer": "平时放在消毒柜里，这几天消毒柜坏了，没有记录。"},
        ],
        "party_signature": {"refused": True, "refusal_note": "被询问人核对笔录后称“不想签”，拒绝签名，执法人员当场注明。",
                            "witness_name": "赵某某", "witness_identity": "呈州市东城区解放路社区居委会工作人员",
                            "witness_image": drawn_signature(2), "av_record": "执法记录仪 DSJ-0231 20260305_1100.mp4"},
    },
    "evidence_preservation_decision": {
        **_head("呈卫先保〔2026〕001号", "2026-03-05"), "party": PARTY, "reason": "涉嫌使用未经消毒的顾客用品用具",
        "items": [{"name": "毛巾", "spec": "30×70cm", "quantity": "12条"},
                  {"name": "消毒柜使用登记本", "quantity": "1本", "note": "空白"}],
        "storage_place": "呈州市东城区解放路188号店内消毒间", "period_start": "2026-03-05",
        "period_end": "2026-03-13", "approver": "郑国强", "officers": OFFICERS,
        "party_signature": {"image": drawn_signature(), "signer_name": "王某某"},
    },
    "investigation_final_report": {
        **_head("", "2026-03-15"), "party": PARTY, "cause": "从业人员未取得健康合格证明上岗、未按规定清洗消毒顾客用品用具",
        "facts": FACTS, "evidence": EVIDENCE, "characterization": "违反公共场所卫生管理规定", "legal_basis": BASIS,
        "discretion": "当事人系首次被查处，积极配合调查，属一般情节。", "proposal": "建议给予警告并处罚款。",
        "proposed_penalties": PENALTIES, "handlers": OFFICERS,
    },
    "collegial_deliberation_record": {
        **_head("", "2026-03-16"), "held_at": "2026-03-16T14:30:00+08:00", "place": "委第三会议室",
        "chair": "郑国强", "recorder": "吴芳", "party": PARTY, "cause": "从业人员未取得健康合格证明上岗等",
        "case_summary": FACTS, "evidence_summary": "现场笔录、询问笔录、现场照片6张、营业执照复印件。",
        "characterization": "违反《公共场所卫生管理条例实施细则》第十条、第十四条。", "legal_basis": BASIS,
        "discretion": "一般情节，按裁量基准第二档。",
        "members": [
            {"name": "郑国强", "role": "主持人", "opinion": "事实清楚，证据确凿，同意警告并罚款5000元。", "vote": "agree"},
            {"name": "孙丽", "role": "合议人员", "opinion": "同意承办人意见。", "vote": "agree"},
            {"name": "何伟", "role": "合议人员", "opinion": "当事人已整改，建议罚款3000元。", "vote": "disagree"},
        ],
        "conclusion": "多数意见：给予警告，并处罚款人民币5000元。",
    },
    "penalty_prior_notice": {
        **_head("呈卫罚告〔2026〕012号", "2026-03-18"), "party": PARTY, "facts": FACTS, "evidence": EVIDENCE,
        "violated_provision": VIOLATED, "legal_basis": BASIS, "penalties": PENALTIES, "hearing_right": False,
        "contact": "李明", "contact_phone": "0571-87005678", "agency_address": "呈州市人民路1号",
    },
    "statement_defense_record": {
        **_head("", "2026-03-21"), "party": PARTY, "held_at": "2026-03-21T09:30:00+08:00", "place": "委询问室",
        "speaker": "王某某", "recorder": "陈静", "handlers": OFFICERS,
        "statement": "我店已为三名员工办理健康证，消毒柜已修好，请求从轻处罚。",
        "evidence_submitted": [{"name": "健康合格证明复印件3份"}],
        "review_opinion": "整改属实，但违法事实成立，罚款已按一般情节最低档裁量，维持原拟处罚意见。",
        "review_adopted": False, "reviewer": "李明",
    },
    "hearing_rights_notice": {
        **_head("呈卫听告〔2026〕004号", "2026-03-18"), "party": PARTY, "facts": FACTS, "legal_basis": BASIS,
        "penalties": [{"kind": "罚款", "amount": "20000"}], "contact": "李明", "contact_phone": "0571-87005678",
    },
    "hearing_notice": {
        **_head("呈卫听通〔2026〕004号", "2026-03-24"), "party": PARTY, "cause": "从业人员未取得健康合格证明上岗",
        "hearing_at": "2026-04-07T09:00:00+08:00", "place": "呈州市人民路1号听证室", "presider": "马涛",
        "clerk": "吴芳", "contact": "吴芳", "contact_phone": "0571-87005600",
    },
    "hearing_record": {
        **_head("", "2026-04-07"), "party": PARTY, "cause": "从业人员未取得健康合格证明上岗",
        "started_at": "2026-04-07T09:00:00+08:00", "ended_at": "2026-04-07T10:10:00+08:00", "place": "听证室",
        "presider": "马涛", "clerk": "吴芳", "investigators": OFFICERS, "party_attendees": ["王某某", "律师赵某（代理人）"],
        "proceedings": [
            {"speaker": "调查人员", "question": "陈述违法事实、证据和拟处罚意见。", "answer": ""},
            {"speaker": "代理人", "question": "当事人已全部整改，请求减轻处罚。", "answer": ""},
        ],
        "final_statement": "请求从轻处罚。",
    },
    "hearing_report": {
        **_head("", "2026-04-08"), "party": PARTY, "cause": "从业人员未取得健康合格证明上岗",
        "hearing_at": "2026-04-07T09:00:00+08:00", "presider": "马涛", "summary": "听证依法公开举行，当事人委托代理人到场。",
        "investigators_view": "事实清楚，证据确凿。", "party_view": "已整改，请求减轻。",
        "findings": "违法事实成立；整改情况属实。", "opinion": "建议维持罚款人民币5000元。",
    },
    "legal_review_opinion": {
        **_head("呈卫法审〔2026〕009号", "2026-03-25"), "party": PARTY, "cause": "从业人员未取得健康合格证明上岗等",
        "submitted_by": "监督一科 李明", "jurisdiction": "本机关具有管辖权，执法主体合法。",
        "facts_evidence": "事实清楚，证据确凿充分。", "characterization_basis": "定性准确，适用依据正确。",
        "procedure": "程序合法，已履行告知义务。", "discretion": "裁量适当。", "conclusion": "approve",
        "reviewer": "林晓", "reviewer_qualification": "A20203301001234", "head": "高远",
    },
    "major_case_discussion_record": {
        **_head("", "2026-03-26"), "held_at": "2026-03-26T15:00:00+08:00", "place": "委党组会议室",
        "chair": "钱主任", "recorder": "吴芳",
        "participants": [
            {"name": "钱主任", "role": "主任", "opinion": "同意。", "vote": "agree"},
            {"name": "孔副主任", "role": "副主任", "opinion": "同意。", "vote": "agree"},
            {"name": "冯副主任", "role": "副主任", "opinion": "同意，并督促整改到位。", "vote": "agree"},
        ],
        "attendees": ["李明", "林晓"], "party": PARTY, "cause": "从业人员未取得健康合格证明上岗等",
        "report": "承办人李明汇报案件调查情况及处理建议。", "decision": "给予警告，并处罚款人民币5000元。",
    },
    "on_the_spot_penalty_decision": {
        **_head("呈卫当罚〔2026〕0101号", "2026-03-05"), "party": PARTY, "occurred_at": "2026-03-05T10:20:00+08:00",
        "place": "呈州市东城区解放路188号", "violation": "未在醒目位置公示卫生许可证", "violated_provision": "《公共场所卫生管理条例实施细则》第三十六条",
        "legal_basis": "《公共场所卫生管理条例实施细则》第三十六条", "penalties": [{"kind": "警告"}],
        "payment_method": "无需缴纳", "review_agency": "呈州市人民政府", "court": "呈州市东城区人民法院",
        "officers": OFFICERS,
    },
    "penalty_decision": {
        **_head("呈卫罚〔2026〕001号", "2026-03-28"), "party": PARTY, "facts": FACTS, "evidence": EVIDENCE,
        "violated_provision": VIOLATED, "legal_basis": BASIS, "discretion": "鉴于你店系初次违法且积极整改，依据裁量基准按一般情节处理。",
        "procedure_note": "本机关于2026年3月18日向你店送达《行政处罚事先告知书》（呈卫罚告〔2026〕012号），你店提出陈述申辩，经复核，理由不成立。",
        "penalties": PENALTIES, "payment_method": "持本决定书到呈州银行各网点缴纳罚款，或通过“浙里办”电子缴款",
        "review_agency": "呈州市人民政府", "court": "呈州市东城区人民法院",
    },
    "no_penalty_decision": {
        **_head("呈卫不罚〔2026〕002号", "2026-03-28"), "party": PARTY,
        "facts": "经查，你店1名从业人员健康合格证明过期10日，已于检查当日补办。", "ground": "该违法行为轻微并及时改正，没有造成危害后果，",
        "legal_basis": "《中华人民共和国行政处罚法》第三十三条第一款", "education": "本机关已对你店进行批评教育，责令加强从业人员管理。",
        "review_agency": "呈州市人民政府", "court": "呈州市东城区人民法院",
    },
    "service_receipt": {
        **_head("", "2026-03-29"), "documents": [{"title": "行政处罚决定书", "doc_number": "呈卫罚〔2026〕001号"}],
        "recipient": "呈州市某某美容店", "method": "直接送达", "place": "呈州市东城区解放路188号",
        "served_at": "2026-03-29T10:00:00+08:00", "receiver": "王某某", "receiver_relation": "法定代表人",
        "servers": ["李明", "陈静"],
    },
    "case_closing_report": {
        **_head("", "2026-04-15"), "party": PARTY, "cause": "从业人员未取得健康合格证明上岗等",
        "decision_number": "呈卫罚〔2026〕001号", "penalties": PENALTIES,
        "execution": "当事人于2026年4月8日缴纳罚款人民币5000元（缴款书号 330100260400123）。", "closing_reason": "处罚决定已执行完毕。",
        "handlers": OFFICERS, "approval_opinion": "同意结案。", "approver": "郑国强",
    },
    "publication_record": {
        **_head("", "2026-04-02"), "decision_number": "呈卫罚〔2026〕001号", "penalty_name": "警告；罚款",
        "party": PARTY, "reason": "从业人员未取得健康合格证明上岗；未按规定清洗消毒顾客用品用具",
        "legal_basis": BASIS, "result": "警告，罚款人民币5000元", "decision_date": "2026-03-28",
        "publication_period": "3年",
    },
    "complaint_result_notice": {
        **_head("呈卫投复〔2026〕0031号", "2026-04-02"), "complainant_name": "周某", "received_date": "2026-03-02",
        "channel": "12345热线", "subject": "呈州市某某美容店从业人员无健康证上岗问题",
        "handling": "本机关于2026年3月5日对该店进行了现场检查，并依法立案调查。", "result": "反映问题属实，已依法作出行政处罚。",
        "contact": "李明", "contact_phone": "0571-87005678",
    },
    "supervision_notice": {
        **_head("", "2026-03-10"), "agency": "示例省卫生健康委员会", "supervising_agency": "示例省卫生健康委员会",
        "handling_agency": AGENCY, "party": PARTY, "cause": "从业人员未取得健康合格证明上岗等",
        "reason": "群众多次投诉，社会影响较大", "instructions": "请依法从严查处，彻查同类问题，按期报告查办进展。",
        "due_date": "2026-06-30", "report_cycle": "每10个工作日", "supervisor": "钱督查",
    },
    "supervision_report": {
        **_head("", "2026-04-16"), "supervising_agency": "示例省卫生健康委员会", "handling_agency": AGENCY,
        "party": PARTY, "cause": "从业人员未取得健康合格证明上岗等", "instructions": "请依法从严查处，按期报告查办进展。",
        "progress": "已作出行政处罚决定（呈卫罚〔2026〕001号），当事人已缴纳罚款。", "next_steps": "",
        "final": True, "reporter": "李明", "closing_opinion": "查处到位，同意销号。", "closed": True,
        "supervisor": "钱督查",
    },
}


def sample_data(kind: str) -> dict[str, Any]:
    """A deep copy of the demo form data for `kind` (safe to mutate in tests)."""
    return copy.deepcopy(_SAMPLES[kind])


def sample_kinds() -> list[str]:
    return list(_SAMPLES)
