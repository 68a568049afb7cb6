"""Sealed fields (record format 2): salted digests signed, values disclosed separately, checked offline."""

import hashlib
import io
import json
import zipfile

import pytest

from signatures.bundle import Withheld, verify_bundle, write_bundle
from signatures.canonical import canonical_json
from signatures.errors import VerificationError
from signatures.pki import certificate_pem
from signatures.records import (
    GENESIS_HASH,
    SEALED_RECORD_VERSION,
    DocumentRef,
    SignedRecord,
    StepRecord,
    sign_record,
)
from signatures.report import Check, Status
from signatures.sealing import (
    Disclosure,
    check_sealed,
    disclosures_from_json_obj,
    open_form,
    parse_pointer,
    seal_digest,
    seal_form,
)
from signatures.verify import PathResult
from tests.unit.signatures.sigcase import DAY, DEFINITION_SHA, HOUR, T0, Agency, Case

INTAKE = {"channel": "letter", "complainant": {"anonymous": False, "name": "张三", "phone": "13800138000",
                                              "address": "呈州市东风路1号"}, "content": "无证行医"}
POINTERS = ("/complainant/name", "/complainant/phone", "/complainant/address", "/complainant/id_number")


def test_digest_is_sha256_of_the_jcs_of_salt_and_value_as_the_spec_works_it_out():
    # docs/evidence-bundle.md §1a, the worked example
    assert seal_digest("000102030405060708090a0b0c0d0e0f", "张三") == \
        "7a268207f51b3db4e5ea1f08b0d2a2b9c25e3a8dcf9d81c9801359b7a4b1ec5c"
    assert seal_digest("0f0e0d0c0b0a09080706050403020100", 1500) == \
        "853ef61a3715878cf3f119f64319dfcc82c36ea483bf341c4b5ce84b7a442f3b"
    salt = "ab" * 16
    assert seal_digest(salt, {"b": 1, "a": [True, None]}) == hashlib.sha256(
        b'{"salt":"' + salt.encode() + b'","value":{"a":[true,null],"b":1}}').hexdigest()


def test_sealing_takes_the_values_out_and_opening_puts_them_back():
    form, sealed, disclosed = seal_form(INTAKE, POINTERS)
    assert form == {"channel": "letter", "complainant": {"anonymous": False}, "content": "无证行医"}
    assert sorted(sealed) == ["/complainant/address", "/complainant/name", "/complainant/phone"]  # no id_number given
    assert INTAKE["complainant"]["name"] == "张三"  # the caller's form is left as it was
    assert len({d.salt for d in disclosed.values()}) == 3  # a fresh salt per field
    opened, problems, withheld = open_form(form, sealed, disclosed)
    assert (opened, problems, withheld) == (INTAKE, [], [])
    opened, problems, withheld = open_form(form, sealed, {})
    assert opened == form and withheld == sorted(sealed)


def test_a_wrong_value_or_salt_does_not_open_and_names_the_field():
    form, sealed, disclosed = seal_form(INTAKE, POINTERS)
    name = disclosed["/complainant/name"]
    for wrong in (Disclosure(name.salt, "李四"), Disclosure("00" * 16, name.value)):
        opened, problems, _ = open_form(form, sealed, {**disclosed, "/complainant/name": wrong})
        assert problems == ["/complainant/name: the value or salt does not give the signed digest"]
        assert "name" not in opened["complainant"] and opened["complainant"]["phone"] == "13800138000"


def test_a_pointer_passes_through_an_array_by_index_to_a_member_of_an_item():
    form = {"_evidence_files": [{"id": 1, "name": "张三录音.m4a", "note": "投诉人提供"}, {"id": 2, "name": "信.pdf"}]}
    pointers = ["/_evidence_files/0/name", "/_evidence_files/0/note", "/_evidence_files/1/name",
                "/_evidence_files/2/name", "/_evidence_files/01/name", "/_evidence_files/-/name"]
    out, sealed, disclosed = seal_form(form, pointers)
    assert out == {"_evidence_files": [{"id": 1}, {"id": 2}]}  # beyond the end, a leading zero, "-": nothing
    assert sorted(sealed) == pointers[:3]
    check_sealed(out, sealed)
    opened, problems, withheld = open_form(out, sealed, disclosed)
    assert (opened, problems, withheld) == (form, [], [])
    with pytest.raises(VerificationError, match="parent is not an object"):
        check_sealed(out, {"/_evidence_files/5/name": "0" * 64})


def test_json_pointer_escapes_follow_rfc_6901():
    assert parse_pointer("/a~1b/c~0d") == ("a/b", "c~d")
    for bad in ("a/b", "/x~2"):
        with pytest.raises(VerificationError):
            parse_pointer(bad)


def _sealed_record(agency: Agency, seq: int, form: dict, prev: str, *, documents=(), task="intake") -> tuple:
    officer = agency.officers["u-wang"]
    form_out, sealed, disclosed = seal_form(form, POINTERS + ("/vote",))
    record = StepRecord.create(
        case_id="case-9", case_number="呈卫投〔2026〕0009号", seq=seq, task_spec_id=task, task_name=task,
        role="intake", definition_sha256=DEFINITION_SHA, signer=officer.signer, actor="u-wang",
        actor_name="王监督员", form_data=form_out, documents=documents, prev_hash=prev,
        signed_at=T0 + seq * HOUR, sealed=sealed)
    return sign_record(record, officer.signer), disclosed


def test_a_record_that_seals_is_version_2_and_round_trips_through_its_canonical_bytes():
    agency = Agency()
    signed, _ = _sealed_record(agency, 1, INTAKE, GENESIS_HASH)
    obj = json.loads(signed.canonical)
    assert obj["version"] == SEALED_RECORD_VERSION and set(obj["sealed"]) == {
        "/complainant/address", "/complainant/name", "/complainant/phone"}
    assert b"13800138000" not in signed.canonical and "张三".encode() not in signed.canonical
    assert signed.canonical == canonical_json(obj)  # the fast spelling is the JCS one
    again = SignedRecord.from_parts(signed.canonical, signed.signature)
    assert again.record == signed.record and again.record.sealed == obj["sealed"]


def test_a_version_2_record_that_also_holds_a_sealed_field_is_malformed():
    agency = Agency()
    signed, _ = _sealed_record(agency, 1, INTAKE, GENESIS_HASH)
    obj = json.loads(signed.canonical)
    obj["form_data"]["complainant"]["name"] = "张三"
    with pytest.raises(VerificationError, match="also in form_data"):
        SignedRecord.from_parts(canonical_json(obj), signed.signature)


def test_a_record_without_sealed_fields_stays_version_1_byte_for_byte(agency: Agency, case: Case):
    assert all(json.loads(s.canonical)["version"] == 1 and "sealed" not in json.loads(s.canonical)
               for s in case.records)


@pytest.fixture(scope="module")
def sealed_case() -> tuple[Agency, Case, dict]:
    agency = Agency()
    for i in range(3):
        agency.log.append(f"noise {i}".encode())
    pdf = "%PDF-1.7 投诉举报登记表 张三".encode()
    doc = DocumentRef("register.pdf", "complaint_registration", hashlib.sha256(pdf).hexdigest())
    first, d1 = _sealed_record(agency, 1, INTAKE, GENESIS_HASH, documents=[doc])
    vote = {"vote": "penalty", "opinion": "同意"}
    second, d2 = _sealed_record(agency, 2, vote, first.record_hash, task="panel_vote")
    case = Case([first, second], {doc.sha256: pdf})
    for signed in case.records:
        case.leaf_index[signed.record.seq] = agency.log.append(signed.record_digest)
    return agency, case, {1: d1, 2: d2}


def _bundle(agency: Agency, case: Case, disclosures: dict, *, documents=None, withheld=()) -> bytes:
    head = agency.head()
    return write_bundle(records=case.records, trust_root=agency.ca.certificate, certificates=agency.certificates(),
                        crls=[agency.crl()], tree_head=head, inclusion_proofs=agency.proofs(case, head),
                        documents=case.documents if documents is None else documents,
                        definition_files={"m.bpmn": b"<definitions/>"}, manifest_signer=agency.log_signer,
                        created_at=T0 + 20 * DAY, disclosures=disclosures, withheld=withheld)


def test_a_bundle_with_digests_only_verifies_offline_and_says_what_it_withholds(sealed_case):
    agency, case, _ = sealed_case
    sha = case.records[0].record.documents[0].sha256
    data = _bundle(agency, case, {}, documents={}, withheld=[Withheld(1, sha, "names the complainant")])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            member = zf.read(info)
            assert "张三".encode() not in member and b"13800138000" not in member, info.filename
    seen = []
    report = verify_bundle(data, certificate_pem(agency.ca.certificate), path_check=lambda r: seen.append(r))
    assert report.ok, report.to_text()
    first = report.step(1)
    assert first.check(Check.DISCLOSURE).status is Status.NOT_CHECKED
    assert "/complainant/name" in first.check(Check.DISCLOSURE).reason
    assert first.check(Check.DOCUMENTS).status is Status.NOT_CHECKED
    assert "names the complainant" in first.check(Check.DOCUMENTS).reason
    assert seen[0][0].form_data == {"channel": "letter", "complainant": {"anonymous": False}, "content": "无证行医"}


def test_a_disclosing_bundle_verifies_and_the_path_check_sees_the_values(sealed_case):
    agency, case, disclosed = sealed_case
    seen = []
    report = verify_bundle(_bundle(agency, case, disclosed), certificate_pem(agency.ca.certificate),
                           path_check=lambda r: seen.append(r))
    assert report.ok, report.to_text()
    assert report.step(1).check(Check.DISCLOSURE).status is Status.PASSED
    assert seen[0][0].form_data == INTAKE and seen[0][1].form_data == {"vote": "penalty", "opinion": "同意"}


@pytest.mark.parametrize("wrong", ["value", "salt"])
def test_a_disclosing_bundle_with_a_wrong_value_or_salt_fails_naming_the_record_and_field(sealed_case, wrong):
    agency, case, disclosed = sealed_case
    phone = disclosed[1]["/complainant/phone"]
    bad = Disclosure(phone.salt, "13900139000") if wrong == "value" else Disclosure("11" * 16, phone.value)
    data = _bundle(agency, case, {**disclosed, 1: {**disclosed[1], "/complainant/phone": bad}})
    report = verify_bundle(data, certificate_pem(agency.ca.certificate))
    first = report.first_failure
    assert (first.seq, first.check) == (1, Check.DISCLOSURE)
    assert "/complainant/phone" in first.reason and "signed digest" in first.reason


def test_a_withheld_document_the_manifest_does_not_name_is_missing(sealed_case):
    agency, case, _ = sealed_case
    report = verify_bundle(_bundle(agency, case, {}, documents={}), certificate_pem(agency.ca.certificate))
    assert report.first_failure.check is Check.DOCUMENTS and "missing" in report.first_failure.reason


def test_a_disclosure_added_after_export_is_named_by_the_manifest_check(sealed_case):
    agency, case, disclosed = sealed_case
    data = _bundle(agency, case, {})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    files["disclosures/0001.json"] = canonical_json({p: d.to_json_obj() for p, d in disclosed[1].items()})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, member in files.items():
            zf.writestr(name, member)
    report = verify_bundle(out.getvalue(), certificate_pem(agency.ca.certificate))
    assert not report.ok and "disclosures/0001.json is not listed" in report.first_failure.reason


def test_a_path_check_that_stops_at_a_withheld_value_is_not_checked_and_not_a_failure(sealed_case):
    agency, case, _ = sealed_case
    report = verify_bundle(_bundle(agency, case, {}), certificate_pem(agency.ca.certificate),
                           path_check=lambda r: PathResult(False, "step 2 reads /vote, withheld", 2, stopped=True))
    assert report.case_check(Check.PATH).status is Status.NOT_CHECKED
    assert not any(c.check is Check.PATH for c in report.step(2).checks)


def test_disclosures_are_parsed_strictly():
    with pytest.raises(VerificationError):
        disclosures_from_json_obj({"/vote": {"salt": "00" * 16}})
    with pytest.raises(VerificationError):
        disclosures_from_json_obj([])
