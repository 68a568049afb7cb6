"""The record's spelled-out canonical form and its fast parse give exactly the general path's bytes and records.

`StepRecord.to_canonical` writes the record field by field (`_canonical_text`) and `StepRecord.from_canonical`
checks canonical form by spelling the parsed record out again (`_from_canonical_fast`); both fall back to the
general path (the whole JSON object through `canonical_json` / `parse_canonical`) for anything unusual. These
tests hold both to the reference RFC 8785 implementation on inputs chosen to trip them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import rfc8785

from signatures.algorithms import Algorithm
from signatures.canonical import canonical_json, parse_canonical
from signatures.errors import UnknownAlgorithm, VerificationError
from signatures.merkle import InclusionProof, InclusionVerifier, MerkleLog, leaf_hash
from signatures.records import DocumentRef, StepRecord, format_local, format_times, parse_utc

ESCAPES = 'quote " backslash \\ slash / nl \n tab \t cr \r bs \b ff \f nul \x00 us \x1f del \x7f ls \u2028 ps \u2029'
ASTRAL = "clef \U0001d11e face \U0001f600 last \U0010ffff"


def _record(**changes: object) -> StepRecord:
    base = StepRecord(
        case_id="case-1", case_number="呈卫投〔2026〕0001号", seq=3, task_spec_id="review", task_name="案件审核",
        role="legal_reviewer", definition_sha256="d" * 64, actor="u-0", actor_name="监督员0",
        cert_fingerprint="a" * 64, algorithm="ECDSA-P256-SHA256",
        form_data={"opinion": "同意", "fine_yuan": 5000, "items": [1, 2, 3]},
        documents=(DocumentRef("处罚决定书", "decision", "b" * 64),), prev_hash="c" * 64,
        time_utc="2026-03-02T01:00:00Z", time_local="2026-03-02T09:00:00+08:00",
        assignments={"approve": ("u-1", "u-2")})
    return dataclasses.replace(base, **changes)


TRICKY = {
    "plain": {},
    "escapes in every string": dict(case_number=ESCAPES, task_name=ESCAPES, actor_name=ESCAPES,
                                    form_data={ESCAPES: ESCAPES, "k": [ESCAPES]},
                                    documents=(DocumentRef(ESCAPES, ESCAPES, "b" * 64),),
                                    assignments={ESCAPES: (ESCAPES,)}),
    "astral characters in values": dict(task_name=ASTRAL, form_data={"x": ASTRAL, "y": {"z": [ASTRAL]}},
                                        documents=(DocumentRef(ASTRAL, "k", "b" * 64),)),
    "astral keys sort by UTF-16 units": dict(form_data={"\U0001f600": 1, "\uff61": 2, "a": {"\U00010000": 0, "\ufffd": 1}}),
    "astral assignment keys": dict(assignments={"\U0001f600": ("u-1",), "\uff61": ("u-2",)}),
    "floats": dict(form_data={"rate": 1.5, "big": 1e21, "small": 5e-324, "neg_zero": -0.0, "third": 1 / 3}),
    "float nested in a list": dict(form_data={"xs": [1, 2, [3.25]]}),
    "integers at the safe limits": dict(form_data={"max": 2**53 - 1, "min": -(2**53 - 1), "zero": 0}),
    "seq at the limit": dict(seq=2**53 - 1),
    "nested keys in unsorted order": dict(form_data={"z": {"b": 1, "a": {"d": [], "c": {}}}, "a": None,
                                                     "é": True, "e": False, "E": "", "": "empty key"}),
    "non-ASCII keys in BMP order": dict(form_data={"意见": 1, "罚款": 2, "ä": 3, "a": 4, "\uffff": 5, "\u0100": 6}),
    "assignments in unsorted order": dict(assignments={"zeta": ("u-9",), "alpha": ("u-1", "u-0"), "mid": ()}),
    "no documents or assignments": dict(documents=(), assignments={}),
    "several documents": dict(documents=tuple(DocumentRef(f"文书{i}", f"k{i}", f"{i:x}" * 64) for i in range(3))),
    "empty strings": dict(case_number="", task_name="", actor_name="", role=""),
    "tuples in form data": dict(form_data={"t": (1, "two", (3,))}),
}


@pytest.mark.parametrize("changes", TRICKY.values(), ids=TRICKY.keys())
def test_the_spelled_out_record_equals_reference_jcs(changes):
    record = _record(**changes)
    reference = rfc8785.dumps(record.to_json_obj())
    assert record.to_canonical() == reference
    assert canonical_json(record.to_json_obj()) == reference


@pytest.mark.parametrize("changes", TRICKY.values(), ids=TRICKY.keys())
def test_parsing_gives_the_general_paths_record(changes):
    record = _record(**changes)
    data = record.to_canonical()
    general = StepRecord._from_obj(parse_canonical(data))
    parsed = StepRecord.from_canonical(data)
    assert parsed == general
    assert parsed.to_canonical() == data
    fast = StepRecord._from_canonical_fast(data)
    assert fast is None or fast == general


def test_the_fast_paths_are_taken_for_an_ordinary_record():
    record = _record(**TRICKY["escapes in every string"])
    assert record._canonical_text() is not None
    assert StepRecord._from_canonical_fast(record.to_canonical()) == record


def test_values_the_fast_paths_leave_to_the_general_path():
    for name in ("floats", "astral keys sort by UTF-16 units", "astral assignment keys"):
        record = _record(**TRICKY[name])
        assert record._canonical_text() is None, name
        assert StepRecord._from_canonical_fast(record.to_canonical()) is None, name


def test_wrong_types_fall_back_and_keep_the_general_paths_outcome():
    record = _record(case_id=7, seq=True, version=True)
    assert record._canonical_text() is None
    assert record.to_canonical() == rfc8785.dumps(record.to_json_obj())
    as_str = _record(assignments={"approve": "u-1"})  # a string where a list belongs: list("u-1") in the JSON form
    assert as_str.to_canonical() == rfc8785.dumps(as_str.to_json_obj())
    with pytest.raises(ValueError):
        _record(form_data={"n": 2**53}).to_canonical()


def _variants(data: bytes) -> dict[str, bytes]:
    text = data.decode()
    obj = json.loads(text)
    return {
        "space after a colon": text.replace('"seq":3', '"seq": 3', 1).encode(),
        "pretty printed": json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True).encode(),
        "keys not sorted": json.dumps(dict(reversed(obj.items())), ensure_ascii=False, separators=(",", ":")).encode(),
        "non-ASCII escaped": json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(),
        "escaped solidus": text.replace("/", "\\/").encode() if "/" in text else text.replace('"u-0"', '"u\\/0"').encode(),
        "duplicate key": text.replace('{"actor":"u-0",', '{"actor":"u-1","actor":"u-0",', 1).encode(),
        "seq as a float": text.replace('"seq":3', '"seq":3.0', 1).encode(),
        "seq with an exponent": text.replace('"seq":3', '"seq":3e0', 1).encode(),
        "negative zero": text.replace('"fine_yuan":5000', '"fine_yuan":-0', 1).encode(),
        "leading zero": text.replace('"fine_yuan":5000', '"fine_yuan":05000', 1).encode(),
        "trailing newline": data + b"\n",
        "byte order mark": b"\xef\xbb\xbf" + data,
        "upper-case hex": text.replace("c" * 64, "C" * 64, 1).encode(),
        "unicode escape for a plain letter": text.replace('"u-0"', '"\\u0075-0"', 1).encode(),
        "upper-case hex in an escape": text.replace("\\u001f", "\\u001F", 1).encode(),
        "document with an extra key": text.replace('"sha256":"' + "b" * 64 + '"',
                                                   '"sha256":"' + "b" * 64 + '","x":1', 1).encode(),
        "assignment not a list": text.replace('"approve":["u-1","u-2"]', '"approve":"u-1"', 1).encode(),
        "user id not a string": text.replace('"approve":["u-1","u-2"]', '"approve":[1,"u-2"]', 1).encode(),
        "invalid UTF-8": data.replace("同".encode(), b"\xe5\x90", 1),
    }


@pytest.mark.parametrize("name", list(_variants(_record().to_canonical())))
def test_non_canonical_or_malformed_bytes_are_refused_by_both_paths(name):
    data = _record(form_data={"opinion": "同意", "fine_yuan": 5000, "nul": "\x00\x1f"}).to_canonical()
    bad = _variants(data)[name]
    assert bad != data
    assert StepRecord._from_canonical_fast(bad) is None
    with pytest.raises(VerificationError):
        StepRecord.from_canonical(bad)


def test_parse_utc_reads_the_fixed_spelling_only():
    moment = parse_utc("2026-03-02T01:02:03Z")
    assert moment == dt.datetime(2026, 3, 2, 1, 2, 3, tzinfo=dt.UTC) and moment.tzinfo is dt.UTC
    assert format_local(moment) == format_times(moment)[1] == "2026-03-02T09:02:03+08:00"
    for bad in ("2026-02-30T01:00:00Z", "2026-03-02T24:00:00Z", "0000-01-01T00:00:00Z", "2026-03-02T01:00:00+00:00",
                "2026-03-02 01:00:00Z", "\uff12026-03-02T01:00:00Z"):
        with pytest.raises(VerificationError):
            parse_utc(bad)


def test_algorithm_lookup_refuses_unknown_and_unhashable_names():
    assert Algorithm.from_name("ECDSA-P256-SHA256") is Algorithm.ECDSA_P256_SHA256
    for name in ("SM2-SM3", "", ["ECDSA-P256-SHA256"], None):
        with pytest.raises(UnknownAlgorithm):
            Algorithm.from_name(name)  # type: ignore[arg-type]


def test_the_inclusion_verifier_takes_proof_hashes_as_a_list_too():
    log = MerkleLog([leaf_hash(bytes([i])) for i in range(11)])
    verifier = InclusionVerifier(log.root(), 11)
    for i in (3, 2, 10, 3):
        verifier.verify(log.leaf(i), InclusionProof(i, 11, log.inclusion_proof(i)))  # type: ignore[arg-type]
    with pytest.raises(VerificationError):
        verifier.verify(log.leaf(4), InclusionProof(4, 11, log.inclusion_proof(5)))  # type: ignore[arg-type]


WRONG_TYPES = [
    (field, value)
    for field in ("case_id", "case_number", "task_spec_id", "task_name", "role", "actor", "actor_name", "algorithm",
                  "time_utc", "time_local", "prev_hash", "definition_sha256", "cert_fingerprint", "seq", "version")
    for value in (5, None, ["x"], {"a": "b"}, 1.5, True)
    if (field, value) != ("seq", 5)  # a valid step number
]


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES)
def test_a_field_of_the_wrong_type_is_refused_by_both_paths(field, value):
    obj = json.loads(_record().to_canonical())
    obj[field] = value
    bad = rfc8785.dumps(obj)
    assert StepRecord._from_canonical_fast(bad) is None
    with pytest.raises(VerificationError):
        StepRecord.from_canonical(bad)
