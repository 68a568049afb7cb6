"""What a completed step knows (`StepContext`) and the small readers the 文书 builders share.

Pure: no database, no web. The engine builds a `StepContext` inside the step's transaction from the case
data *before* the step, the submitted form and the people involved; the builders turn it into a
`documents` dataclass. Every printed fact comes from the case data or the form; where the model does not
capture something, the field stays empty rather than being made up (see docs/documents.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from documents import AttachedFile, DocumentDataError, Evidence, Officer, Party, PartyKind, Penalty
from signatures.evidence import EVIDENCE_KEY

if TYPE_CHECKING:
    from engine.rules.settings import Settings

@dataclass(frozen=True, kw_only=True)
class AgencyInfo:
    """制作机关 and its standing wording: name, 简称 (for 文号), 复议机关 and 人民法院 for the 救济 sentence."""

    name: str
    short: str
    timezone: str  # settings.json agency.timezone (checked when the settings load)
    #: 行政复议法 (2023) 第二十四条: a county-level-or-higher department's acts go to 本级人民政府.
    review_agency: str = ""
    #: 行政诉讼法 第十八条: the court where the agency sits; the model does not name it (settings may).
    court: str = "有管辖权的人民法院"
    statement_days: int = 5  # settings.time_limits.statement_window
    hearing_request_days: int = 5  # settings.time_limits.hearing_request (Art 64)
    payment_days: int = 15  # settings.time_limits.payment (Art 67)

    @classmethod
    def from_settings(cls, settings: Settings) -> AgencyInfo:
        """The agency of `settings` (the case's own, engine/agencies.py `case_settings`); its `review_agency` and
        `court` are optional."""
        days = {k: settings.time_limits[k].days for k in ("statement_window", "hearing_request", "payment")
                if k in settings.time_limits}
        return cls(
            name=settings.agency.name, short=settings.agency.short, timezone=settings.agency.timezone,
            review_agency=settings.agency.review_agency or default_review_agency(settings.agency.name),
            court=settings.agency.court or cls.court,
            statement_days=days.get("statement_window", 5), hearing_request_days=days.get("hearing_request", 5),
            payment_days=days.get("payment", 15),
        )

    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.timezone)


def default_review_agency(agency_name: str) -> str:
    """呈州市卫生健康委员会 -> 呈州市人民政府 (行政复议法第二十四条: 本级人民政府); else a generic phrase."""
    for suffix in ("卫生健康委员会", "卫生健康局", "卫生和计划生育委员会", "卫生局"):
        if agency_name.endswith(suffix) and len(agency_name) > len(suffix):
            return agency_name[: -len(suffix)] + "人民政府"
    return "本级人民政府"


@dataclass(frozen=True, kw_only=True)
class StepContext:
    """One completed step, as the 文书 builders see it.

    `case_data` is the workflow data *before* the step (the ready task's data); `form_data` what was
    submitted. `case_data_after` is the data after the step — only the 合议记录 needs it, because a
    parallel multi-instance vote collects the ballots only when the last member has voted.
    """

    agency: AgencyInfo
    case_number: str
    doc_number: str = ""  # 文号 allocated by the engine (e.g. 呈卫罚〔2026〕001号); "" = none allocated
    step_time: dt.datetime  # UTC, when the step was completed (also the signing time)
    actor_id: str
    actor_name: str
    task_spec_id: str
    task_name: str = ""
    document_code: str | None = None  # the task's `document` property (TaskMeta.document); None: no 文书
    #: the task's `documentVariant` (TaskMeta.document_variant): which wording of its 文书 this step writes,
    #: e.g. "approval" for the 负责人's part of a report the 承办人 drafted. None: the 文书's plain wording.
    variant: str | None = None
    #: the task's `signatureBlock` (TaskMeta.signature_block): where its actor signs. None: the 承办人's block.
    signature_block: str | None = None
    case_data: Mapping[str, Any]
    form_data: Mapping[str, Any]
    officer_names: Mapping[str, str] = field(default_factory=dict)  # user id -> display name
    # user id -> 执法证号 from the user's profile (users.cert_no, kept by an administrator): printed beside each
    # 执法人员 (行政处罚法 第五十五条: 出示执法证件); never typed into a form again.
    officer_certs: Mapping[str, str] = field(default_factory=dict)
    case_data_after: Mapping[str, Any] | None = None
    due: dt.datetime | None = None  # the step's statutory deadline (ReadyTask.due), when it has one
    # The images drawn on the screen that the form records by digest (stored as files, issue 14), as the engine
    # read them from the store: digest -> PNG data URL.
    drawn_images: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.step_time.tzinfo is None:
            raise DocumentDataError("StepContext.step_time must be timezone-aware", field="step_time")

    # -- reading facts
    def get(self, key: str, default: Any = None) -> Any:
        """The submitted value, else the case's current value (later steps overwrite earlier keys)."""
        if key in self.form_data and self.form_data[key] not in (None, ""):
            return self.form_data[key]
        value = self.case_data.get(key, default)
        return default if value is None else value

    def drawn_image(self, value: Any) -> str:
        """A drawn image of the form as a PNG data URL: one stored as a file (its reference: the digest), or one
        a record made before then holds itself; "" for none."""
        if isinstance(value, Mapping):
            digest = str(value.get("sha256") or "")
            if digest not in self.drawn_images:
                raise DocumentDataError(f"drawn image {digest[:16]}… was not read from the store", field="image")
            return self.drawn_images[digest]
        return str(value or "")

    def text(self, key: str, default: str = "") -> str:
        value = self.get(key)
        return default if value in (None, "") else str(value)

    def name(self, user_id: Any) -> str:
        uid = str(user_id or "")
        return self.officer_names.get(uid, uid)

    def names(self, user_ids: Any) -> tuple[str, ...]:
        return tuple(self.name(u) for u in (user_ids or ()) if u)

    def cert(self, user_id: Any, typed: Any = "") -> str:
        """The officer's 执法证号 from their profile; `typed`, what a record made before profiles held them says."""
        return self.officer_certs.get(str(user_id or ""), "") or str(typed or "")

    # -- dates in the agency's time zone (the paper shows local dates)
    @property
    def local_time(self) -> dt.datetime:
        return self.step_time.astimezone(self.agency.zone())

    @property
    def date(self) -> dt.date:
        return self.local_time.date()

    def moment(self, key: str) -> dt.datetime | None:
        return parse_moment(self.get(key), self.agency.zone())


def parse_moment(value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """An ISO timestamp from the case data, shown in the agency's local time `zone` (one typed without a zone was
    typed in it); None when absent or unreadable."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def amount(value: Any) -> Decimal | None:
    """A fine from the case data as Decimal yuan; None for absent, zero or unreadable values."""
    if value in (None, "", False):
        return None
    try:
        result = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return result if result > 0 else None


def penalties(warning: Any, fine: Any, other: Any = "", structured: Any = None) -> tuple[Penalty, ...]:
    """The penalties a decision imposes, in the order of 行政处罚法 第九条; `structured`: the decision's form data
    with its structured penalties (没收违法所得, 没收非法财物, 吊销许可证, 暂停执业/责令停产停业), which the
    indicators count (engine/rules/indicators.py): the 决定书 states each of them too."""
    out: list[Penalty] = []
    if warning:
        out.append(Penalty(kind="警告"))
    if (yuan := amount(fine)) is not None:
        out.append(Penalty(kind="罚款", amount=yuan))
    form = structured or {}
    if (yuan := amount(form.get("confiscated_income"))) is not None:
        out.append(Penalty(kind="没收违法所得", amount=yuan))
    if (yuan := amount(form.get("confiscated_property"))) is not None:
        out.append(Penalty(kind="没收非法财物", amount=yuan, detail="估值"))
    if form.get("suspension_months"):
        out.append(Penalty(kind="暂停执业／责令停产停业", detail=f"{int(form['suspension_months'])}个月"))
    if form.get("licence_revoked"):
        out.append(Penalty(kind="吊销许可证"))
    if other:
        out.append(Penalty(kind=str(other)))
    return tuple(out)


def party(ctx: StepContext) -> Party:
    """当事人 from the intake's 被投诉举报对象 (respondent): name, kind, credit code, address."""
    resp = ctx.case_data.get("respondent") or ctx.form_data.get("respondent") or {}
    kind = PartyKind.INDIVIDUAL if resp.get("kind") == "citizen" else PartyKind.ORGANIZATION
    code = str(resp.get("credit_code") or "")
    return Party(
        name=str(resp.get("name") or ""), kind=kind,
        credit_code=code if kind is PartyKind.ORGANIZATION else "",
        id_number=code if kind is PartyKind.INDIVIDUAL else "",
        legal_representative=str(resp.get("legal_representative") or ""),
        address=str(resp.get("address") or ""),
    )


def handlers(ctx: StepContext) -> tuple[Officer, ...]:
    """承办人 (case_officers) with their 执法证号: from their profiles (a case before profiles held them: as its
    现场检查 typed them)."""
    typed = {str(u): str(n) for u, n in zip(ctx.get("inspectors") or (), ctx.get("cert_numbers") or (), strict=False)}
    return tuple(Officer(name=ctx.name(u), cert_number=ctx.cert(u, typed.get(str(u), "")))
                 for u in (ctx.get("case_officers") or ()))


def evidence(ctx: StepContext) -> tuple[Evidence, ...]:
    """Evidence registered in 证据登记, else the report's 证据 text, one item per line."""
    items = ctx.get("evidence_items") or ()
    found = tuple(Evidence(name=str(i.get("name") or ""), detail=EVIDENCE_KINDS.get(str(i.get("kind")), ""))
                  for i in items if isinstance(i, Mapping) and i.get("name"))
    return found or lines_as_evidence(ctx.text("evidence_summary"))


def attached_files(ctx: StepContext) -> tuple[AttachedFile, ...]:
    """The evidence files the step's record lists (its form data's `_evidence_files`, as the step passes them)."""
    return tuple(AttachedFile(name=str(f.get("name") or ""), media_type=str(f.get("media_type") or ""),
                              size=int(f.get("size") or 0), sha256=str(f.get("sha256") or ""),
                              note=str(f.get("note") or ""))
                 for f in ctx.form_data.get(EVIDENCE_KEY) or () if isinstance(f, Mapping))


def lines_as_evidence(text: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(name=line.strip()) for line in text.splitlines() if line.strip())


def label(table: Mapping[str, str], value: Any) -> str:
    return table.get(str(value), str(value or ""))


# What an officer may end a typed sentence with; a 文书 that goes on after it puts its own mark there.
_CLOSING_MARKS = "。；;，,.、：: \u3000"


def clause(text: str) -> str:
    """Typed text that a 文书's sentence goes on after (…{reason}，在证据…): without the officer's closing mark,
    which would print as 。，."""
    return text.rstrip(_CLOSING_MARKS)


def join(parts: Sequence[str], sep: str = "；") -> str:
    """The non-empty parts, `sep` between them; a part's own closing mark gives way to `sep` (never 。；)."""
    kept = [p for p in parts if p]
    return sep.join([clause(p) for p in kept[:-1]] + kept[-1:])


CHANNELS = {"hotline_12345": "12345热线", "hotline_12320": "12320热线", "letter": "来信", "visit": "来访",
            "online": "网络", "inspection": "监督检查发现", "referral": "部门移送", "assigned": "上级交办"}
SOURCES = {"inspection": "监督检查发现", "referral": "部门移送", "assigned": "上级交办"}  # else 投诉举报
VIOLATIONS = {"public_place_unlicensed": "未取得公共场所卫生许可证擅自营业",
              "medical_unlicensed_practice": "未取得医疗机构执业许可证擅自执业",
              "water_supply_unlicensed": "未取得卫生许可证从事集中式供水",
              "water_staff_no_health_cert": "供水单位直接从事供、管水人员未取得健康证明上岗",
              "public_place_staff_no_health_cert": "公共场所从业人员未取得有效健康合格证明上岗",
              "other": "其他违法行为"}
EVIDENCE_KINDS = {"documentary": "书证", "physical": "物证", "audiovisual": "视听资料", "electronic": "电子数据",
                  "witness": "证人证言", "party_statement": "当事人的陈述", "expert_opinion": "鉴定意见",
                  "inspection_record": "勘验笔录、现场笔录", "onsite_record": "现场笔录"}
OUTCOMES = {"penalty": "给予行政处罚", "no_penalty_minor": "违法行为轻微并及时改正，不予行政处罚",
            "no_penalty_facts": "违法事实不能成立，不予行政处罚", "referred_judicial": "涉嫌犯罪，移送司法机关",
            "none": "未形成过半数意见"}
SEVERITY = {"minor": "轻微", "ordinary": "一般", "serious": "较重", "aggravated": "严重"}
HARM = {"none": "未造成危害后果", "minor": "危害后果轻微", "some": "造成一定危害后果"}
SERVICE_METHODS = {"direct": "直接送达", "lodged": "留置送达", "entrusted": "委托送达", "mail": "邮寄送达",
                   "electronic": "电子送达", "announcement": "公告送达"}
CLOSING_REASONS = {"executed": "处罚决定已执行完毕", "no_penalty": "决定不予行政处罚", "referred": "已移送司法机关",
                   "summary": "简易程序处罚已执行", "terminated": "案件终止调查"}
