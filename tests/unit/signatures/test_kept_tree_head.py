"""A tree head kept by an auditor in any JSON spelling reads back; a bundle's must stay canonical."""

import json

import pytest

from signatures.errors import VerificationError
from signatures.treehead import SignedTreeHead, verify_tree_head
from tests.unit.signatures.sigcase import Agency


def _as_printed(head: SignedTreeHead) -> bytes:
    # What `casetrail log head --json` prints: indented, Chinese unescaped, a final newline.
    return (json.dumps(head.to_json_obj(), ensure_ascii=False, indent=2) + "\n").encode()


def test_a_head_printed_indented_reads_back_and_still_verifies(agency: Agency, case):
    head = agency.head()
    kept = SignedTreeHead.from_kept_json(_as_printed(head))
    assert kept == head
    verify_tree_head(kept, agency.trust(), agency.certificates())


def test_keys_in_another_order_read_back_too(agency: Agency, case):
    head = agency.head()
    obj = head.to_json_obj()
    shuffled = json.dumps(dict(reversed(list(obj.items()))), indent=4).encode()
    assert SignedTreeHead.from_kept_json(shuffled) == head


def test_a_kept_head_with_a_duplicate_key_is_refused(agency: Agency, case):
    printed = _as_printed(agency.head()).decode()
    doubled = printed.replace('"algorithm"', '"algorithm": "Ed25519", "algorithm"', 1)
    with pytest.raises(VerificationError, match="duplicate key"):
        SignedTreeHead.from_kept_json(doubled.encode())


def test_an_edited_kept_head_no_longer_verifies(agency: Agency, case):
    obj = agency.head().to_json_obj()
    obj["tree_head"]["size"] -= 1
    edited = SignedTreeHead.from_kept_json(json.dumps(obj, indent=2).encode())
    with pytest.raises(VerificationError):
        verify_tree_head(edited, agency.trust(), agency.certificates())


def test_the_strict_reader_of_bundles_still_refuses_a_non_canonical_head(agency: Agency, case):
    with pytest.raises(VerificationError, match="canonical"):
        SignedTreeHead.from_json(_as_printed(agency.head()))
