import pytest

from signatures.errors import CertificateError, VerificationError
from signatures.treehead import SignedTreeHead, TreeHead, sign_tree_head, verify_extends, verify_tree_head
from tests.unit.signatures.sigcase import DAY, T0, Agency


def test_signed_tree_head_verifies_and_round_trips_through_json(agency: Agency, case):
    head = agency.head()
    again = SignedTreeHead.from_json(head.to_json())
    assert again == head
    verify_tree_head(again, agency.trust(), agency.certificates())


def test_altered_tree_head_does_not_verify(agency: Agency, case):
    head = agency.head()
    forged = SignedTreeHead(TreeHead(head.tree_head.size - 1, head.tree_head.root_hash, head.tree_head.timestamp),
                            head.algorithm, head.cert_fingerprint, head.signature)
    with pytest.raises(VerificationError):
        verify_tree_head(forged, agency.trust(), agency.certificates())


def test_tree_head_signed_by_an_officer_is_refused(agency: Agency, case):
    head = agency.head()
    by_officer = sign_tree_head(head.tree_head, agency.officers["u-li"].signer)
    with pytest.raises(VerificationError, match="log certificate"):
        verify_tree_head(by_officer, agency.trust(), agency.certificates())


def test_tree_head_dated_outside_the_log_certificate_is_refused(agency: Agency, case):
    head = sign_tree_head(TreeHead.at(len(agency.log), agency.log.root(), T0 - 365 * DAY), agency.log_signer)
    with pytest.raises(CertificateError, match="not yet valid"):
        verify_tree_head(head, agency.trust(), agency.certificates())


def test_newer_head_extends_older_head_only_if_log_is_append_only(fresh_agency: Agency):
    fresh_agency.build_case()
    old = fresh_agency.head(T0 + DAY)
    fresh_agency.build_case(start=T0 + DAY)
    new = fresh_agency.head(T0 + 2 * DAY)
    verify_extends(old, new, fresh_agency.log.consistency_proof(old.tree_head.size))
    with pytest.raises(VerificationError):
        verify_extends(old, new, fresh_agency.log.consistency_proof(old.tree_head.size - 1))


@pytest.mark.parametrize("data", [b"{}", b'{"tree_head":1}', b"not json"])
def test_malformed_tree_head_json_is_refused(data):
    with pytest.raises(VerificationError):
        SignedTreeHead.from_json(data)
