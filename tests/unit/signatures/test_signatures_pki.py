import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from signatures.algorithms import Algorithm, algorithm_for_key, generate_private_key
from signatures.chain import TrustStore
from signatures.errors import CertificateError
from signatures.pki import (
    CertRole,
    Revocation,
    certificate_role,
    certificate_user_id,
    crl_pem,
    fingerprint,
    issue_officer_certificate,
    issue_seal_certificate,
    load_crls,
    make_crl,
    make_intermediate_ca,
    make_root_ca,
)
from tests.unit.signatures.sigcase import DAY, HOUR, T0, Agency


def test_officer_certificate_names_the_officer_and_carries_the_user_id(agency: Agency):
    cert = agency.officers["u-wang"].signer.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "王监督员"
    assert certificate_user_id(cert) == "u-wang"
    assert certificate_role(cert) is CertRole.OFFICER
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert cert.not_valid_before_utc == T0 - 10 * DAY
    assert cert.not_valid_after_utc == T0 + 355 * DAY
    assert algorithm_for_key(cert.public_key()) is Algorithm.ECDSA_P256_SHA256


def test_root_ca_is_self_signed_and_may_issue_certificates(agency: Agency):
    root = agency.ca.certificate
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert agency.ca.algorithm is Algorithm.ECDSA_P256_SHA256


def test_seal_certificate_has_the_seal_role(agency: Agency):
    key = generate_private_key()
    cert = issue_seal_certificate(agency.ca, seal_name="某市卫生健康委员会行政处罚专用章",
                                  public_key=key.public_key(), now=T0, valid_for=DAY)
    assert certificate_role(cert) is CertRole.SEAL
    assert certificate_user_id(cert) is None


def test_fingerprint_is_sha256_of_the_der_encoding(agency: Agency):
    cert = agency.ca.certificate
    assert fingerprint(cert) == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def test_crl_lists_revocations_with_their_dates_and_round_trips_through_pem(fresh_agency: Agency):
    fresh_agency.revoke("u-sun", T0 + 5 * HOUR)
    crl = fresh_agency.crl(T0 + DAY)
    serial = fresh_agency.officers["u-sun"].signer.certificate.serial_number
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None and entry.revocation_date_utc == T0 + 5 * HOUR
    assert crl.is_signature_valid(fresh_agency.ca.certificate.public_key())
    assert load_crls(crl_pem(crl) + crl_pem(crl))[0].last_update_utc == T0 + DAY


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        make_root_ca("x", now=T0.replace(tzinfo=None), valid_for=DAY)


def test_certificate_is_accepted_inside_its_validity_at_signing_time(agency: Agency):
    cert = agency.officers["u-wang"].signer.certificate
    checked = agency.trust().check_at(cert, T0)
    assert checked.user_id == "u-wang" and checked.role is CertRole.OFFICER


@pytest.mark.parametrize(("moment", "message"), [
    (T0 - 11 * DAY, "not yet valid"),
    (T0 + 400 * DAY, "expired"),
])
def test_certificate_outside_its_validity_is_refused(agency: Agency, moment, message):
    cert = agency.officers["u-wang"].signer.certificate
    with pytest.raises(CertificateError, match=message):
        agency.trust(now=T0 + 500 * DAY).check_at(cert, moment)


def test_revocation_applies_from_its_date_not_before(fresh_agency: Agency):
    fresh_agency.revoke("u-sun", T0 + 5 * HOUR)
    cert = fresh_agency.officers["u-sun"].signer.certificate
    trust = fresh_agency.trust()
    trust.check_at(cert, T0 + 4 * HOUR)  # signed before revocation: still valid
    with pytest.raises(CertificateError, match="revoked"):
        trust.check_at(cert, T0 + 5 * HOUR)


def test_a_crl_older_than_the_signature_cannot_vouch_for_it(agency: Agency):
    cert = agency.officers["u-wang"].signer.certificate
    trust = agency.trust(now=T0)
    with pytest.raises(CertificateError, match="older than the signature"):
        trust.check_at(cert, T0 + HOUR)


def test_missing_crl_fails_closed(agency: Agency):
    trust = TrustStore([agency.ca.certificate])
    with pytest.raises(CertificateError, match="revocation list"):
        trust.validate(agency.officers["u-wang"].signer.certificate)


def test_certificate_from_another_ca_is_untrusted(agency: Agency):
    other = make_root_ca("冒充的委员会", now=T0 - DAY, valid_for=10 * DAY)
    key = generate_private_key()
    cert = issue_officer_certificate(other, user_id="u-wang", name="王监督员", public_key=key.public_key(),
                                     now=T0 - DAY, valid_for=10 * DAY)
    with pytest.raises(CertificateError, match="does not chain"):
        agency.trust().check_at(cert, T0)


def test_ca_with_the_same_name_but_another_key_is_untrusted(agency: Agency):
    impostor = make_root_ca("某市卫生健康委员会", now=T0 - 30 * DAY, valid_for=3650 * DAY)
    key = generate_private_key()
    cert = issue_officer_certificate(impostor, user_id="u-li", name="李主任", public_key=key.public_key(),
                                     now=T0 - DAY, valid_for=10 * DAY)
    with pytest.raises(CertificateError, match="does not chain"):
        agency.trust().check_at(cert, T0)


def test_no_trust_root_is_refused():
    with pytest.raises(CertificateError, match="no trust root"):
        TrustStore([])


def test_officer_certificate_issued_by_an_intermediate_chains_to_the_root(agency: Agency):
    county = make_intermediate_ca(agency.ca, "某区卫生监督所", now=T0 - DAY, valid_for=100 * DAY)
    key = generate_private_key()
    cert = issue_officer_certificate(county, user_id="u-qian", name="钱监督员", public_key=key.public_key(),
                                     now=T0 - DAY, valid_for=10 * DAY)
    crls = [agency.crl(), make_crl(county, [Revocation(cert.serial_number, T0 + DAY)], T0 + 5 * DAY)]
    trust = TrustStore([agency.ca.certificate], intermediates=[county.certificate], crls=crls)
    assert trust.check_at(cert, T0).user_id == "u-qian"
    with pytest.raises(CertificateError, match="revoked"):
        trust.check_at(cert, T0 + 2 * DAY)
    without_intermediate = TrustStore([agency.ca.certificate], crls=crls)
    with pytest.raises(CertificateError, match="does not chain"):
        without_intermediate.check_at(cert, T0)


def test_a_certificate_whose_key_algorithm_was_damaged_is_named_unreadable(agency: Agency):
    # One flipped bit in id-ecPublicKey (1.2.840.10045.2.1 -> ...10049...) leaves a parsable
    # certificate whose key cryptography does not know; CI met it by chance in the bundle test.
    from signatures.pki import certificate_pem, load_certificate

    der = agency.officers["u-wang"].signer.certificate.public_bytes(serialization.Encoding.DER)
    oid = bytes.fromhex("06072a8648ce3d0201")
    assert oid in der
    damaged = x509.load_der_x509_certificate(der.replace(oid, bytes.fromhex("06072a8648ce410201"), 1))
    pem = certificate_pem(damaged)
    with pytest.raises(CertificateError, match="not a readable PEM certificate"):
        load_certificate(pem)
