import dataclasses
import datetime as dt
import subprocess

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization

from signatures.errors import SignatureError, UnknownAlgorithm, VerificationError
from signatures.records import GENESIS_HASH, SignedRecord, StepRecord, sign_record, verify_record_signature
from tests.unit.signatures.sigcase import HOUR, T0, Agency, Case


def test_record_round_trips_through_its_canonical_bytes(case: Case):
    signed = case.records[1]
    again = StepRecord.from_canonical(signed.canonical)
    assert again == signed.record
    assert again.to_canonical() == signed.canonical
    assert again.record_hash == signed.record_hash


def test_record_states_both_utc_and_beijing_time(case: Case):
    record = case.records[0].record
    assert record.time_utc == "2026-03-02T02:00:00Z"
    assert record.time_local == "2026-03-02T10:00:00+08:00"
    assert record.signed_at == T0 + HOUR


def test_first_record_starts_the_chain_and_later_ones_link_to_their_predecessor(case: Case):
    assert case.records[0].record.prev_hash == GENESIS_HASH
    for prev, rec in zip(case.records, case.records[1:], strict=False):
        assert rec.record.prev_hash == prev.record_hash


def test_signature_verifies_with_the_signers_certificate_only(agency: Agency, case: Case):
    signed = case.records[1]
    verify_record_signature(signed, agency.officers["u-wang"].signer.certificate)
    with pytest.raises(VerificationError):
        verify_record_signature(signed, agency.officers["u-zhao"].signer.certificate)


def test_changed_form_data_breaks_the_signature(agency: Agency, case: Case):
    signed = case.records[1]
    altered = signed.canonical.replace(b'"fine_yuan":5000', b'"fine_yuan":5001')
    assert altered != signed.canonical
    forged = SignedRecord.from_parts(altered, signed.signature)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_record_signature(forged, agency.officers["u-wang"].signer.certificate)


def test_unknown_algorithm_is_refused(agency: Agency, case: Case):
    signed = case.records[0]
    record = dataclasses.replace(signed.record, algorithm="SM2-SM3")
    with pytest.raises(UnknownAlgorithm):
        verify_record_signature(SignedRecord(record, record.to_canonical(), signed.signature,
                                             record.cert_fingerprint), agency.officers["u-li"].signer.certificate)


def test_signing_a_record_that_names_another_certificate_is_refused(agency: Agency, case: Case):
    with pytest.raises(SignatureError, match="different certificate"):
        sign_record(case.records[1].record, agency.officers["u-sun"].signer)


@pytest.mark.parametrize("edit", [
    lambda b: b.replace(b'"version":1', b'"version":2'),
    lambda b: b.replace(b'"seq":2', b'"seq":0'),
    lambda b: b.replace(b'"seq":2', b'"seq":"2"'),
    lambda b: b.replace(b'"actor":"u-wang",', b''),
    lambda b: b.replace(b'{"actor"', b'{"extra":1,"actor"'),
    lambda b: b.replace(b'"prev_hash":"', b'"prev_hash":"X'),
    lambda b: b.replace(b',"assignments"', b', "assignments"'),
])
def test_malformed_or_non_canonical_records_are_refused(case: Case, edit):
    data = edit(case.records[1].canonical)
    assert data != case.records[1].canonical
    with pytest.raises(VerificationError):
        StepRecord.from_canonical(data)


def test_naive_signing_time_is_refused(agency: Agency):
    with pytest.raises(ValueError):
        agency.record(1, "register", "chief", "u-li", prev_hash=GENESIS_HASH, at=dt.datetime(2026, 3, 2, 9))


def test_openssl_alone_verifies_a_record_signature(agency: Agency, case: Case, tmp_path):
    signed = case.records[2]
    (tmp_path / "rec.json").write_bytes(signed.canonical)
    (tmp_path / "rec.sig").write_bytes(signed.signature)
    public = agency.officers["u-zhao"].signer.certificate.public_key()
    (tmp_path / "pubkey.pem").write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    command = ["openssl", "dgst", "-sha256", "-verify", "pubkey.pem", "-signature", "rec.sig", "rec.json"]
    ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    (tmp_path / "rec.json").write_bytes(signed.canonical.replace(b"5000", b"5001"))
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0


@pytest.mark.parametrize("form_data", [
    {"罚款": 5000, "理由": "事实清楚"},
    {"ratio": 0.25, "area_m2": 1e21},  # floats take the reference encoder
    {"\U0001f600": "astral key", "\ue000": "private use"},
    {"id_card": "110101199003070012", "n": 2**53 - 1},
])
def test_record_canonical_bytes_are_rfc8785_for_any_form_data(agency: Agency, form_data):
    signed = agency.record(1, "register", "chief", "u-li", prev_hash=GENESIS_HASH, at=T0, form_data=form_data)
    assert signed.canonical == rfc8785.dumps(signed.record.to_json_obj())
    assert StepRecord.from_canonical(signed.canonical).form_data == form_data
