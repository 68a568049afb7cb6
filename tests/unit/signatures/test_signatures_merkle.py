import hashlib

import pytest

from signatures.errors import VerificationError
from signatures.merkle import (
    EMPTY_ROOT,
    InclusionProof,
    MerkleLog,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency's reference test leaves and roots (RFC 6962 / RFC 9162 hashing).
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             b"\x50\x51\x52\x53\x54\x55\x56\x57", bytes(range(0x60, 0x70))]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written as literally as possible, to check the cached implementation."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


@pytest.fixture(scope="module")
def log64() -> tuple[MerkleLog, list[bytes]]:
    leaves = [f"leaf {i}".encode() for i in range(64)]
    log = MerkleLog()
    for leaf in leaves:
        log.append(leaf)
    return log, leaves


def test_roots_match_certificate_transparency_known_answers():
    log = MerkleLog()
    for leaf in CT_LEAVES:
        log.append(leaf)
    assert [log.root(n).hex() for n in range(1, 9)] == CT_ROOTS
    assert log.root(0) == EMPTY_ROOT


def test_roots_of_every_size_up_to_64_match_the_rfc_definition(log64):
    log, leaves = log64
    for n in range(65):
        assert log.root(n) == reference_root(leaves[:n])
    assert root_of([leaf_hash(x) for x in leaves[:13]]) == reference_root(leaves[:13])


def test_every_inclusion_proof_verifies_for_sizes_1_to_64(log64):
    log, _ = log64
    for n in range(1, 65):
        root = log.root(n)
        for i in range(n):
            verify_inclusion(log.leaf(i), InclusionProof(i, n, tuple(log.inclusion_proof(i, n))), root)


def test_every_consistency_proof_verifies_for_sizes_1_to_64(log64):
    log, _ = log64
    for n in range(1, 65):
        for m in range(1, n + 1):
            verify_consistency(m, log.root(m), n, log.root(n), log.consistency_proof(m, n))


def test_any_tampered_inclusion_proof_fails(log64):
    log, _ = log64
    n, root = 37, log.root(37)
    for i in (0, 5, 31, 32, 36):
        path = log.inclusion_proof(i, n)
        variants = [InclusionProof(i, n, tuple(path[:j] + [bytes(32)] + path[j + 1:])) for j in range(len(path))]
        variants += [InclusionProof(i + 1 if i < n - 1 else i - 1, n, tuple(path)),  # wrong index
                     InclusionProof(i, n, tuple(path[:-1])),  # truncated path
                     InclusionProof(i, n, tuple(path + [bytes(32)]))]  # extended path
        for proof in variants:
            with pytest.raises(VerificationError):
                verify_inclusion(log.leaf(i), proof, root)
        with pytest.raises(VerificationError):  # another leaf with the right path
            verify_inclusion(leaf_hash(b"forged"), InclusionProof(i, n, tuple(path)), root)


def test_any_tampered_consistency_proof_fails(log64):
    log, _ = log64
    for m, n in ((1, 2), (3, 7), (4, 8), (6, 37), (32, 64), (33, 64)):
        proof = log.consistency_proof(m, n)
        for j in range(len(proof)):
            bad = proof[:j] + [bytes(32)] + proof[j + 1:]
            with pytest.raises(VerificationError):
                verify_consistency(m, log.root(m), n, log.root(n), bad)
        with pytest.raises(VerificationError):
            verify_consistency(m, log.root(m), n, log.root(n), proof[:-1])


def test_a_rewritten_earlier_leaf_breaks_consistency_with_the_old_head(log64):
    log, leaves = log64
    old_size, old_root = 20, log.root(20)
    rewritten = MerkleLog()
    for i, leaf in enumerate(leaves):
        rewritten.append(b"changed" if i == 7 else leaf)
    with pytest.raises(VerificationError, match="rewritten|extend"):
        verify_consistency(old_size, old_root, 64, rewritten.root(), rewritten.consistency_proof(old_size, 64))


def test_a_truncated_log_is_not_consistent_with_a_larger_old_head(log64):
    log, _ = log64
    with pytest.raises(VerificationError, match="shrank"):
        verify_consistency(40, log.root(40), 30, log.root(30), [])


def test_inclusion_proof_json_round_trip_and_malformed_input_is_refused(log64):
    log, _ = log64
    proof = InclusionProof(3, 10, tuple(log.inclusion_proof(3, 10)))
    assert InclusionProof.from_json_obj(proof.to_json_obj()) == proof
    for bad in ({"leaf_index": 3}, {"leaf_index": "3", "tree_size": 10, "hashes": []},
                {"leaf_index": 3, "tree_size": 10, "hashes": ["zz"]}, [1, 2]):
        with pytest.raises(VerificationError):
            InclusionProof.from_json_obj(bad)


def test_append_returns_consecutive_indices_and_sizes_are_bounded():
    log = MerkleLog()
    assert [log.append(bytes([i])) for i in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        log.root(6)
    with pytest.raises(ValueError):
        log.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        log.append_hash(b"short")


def test_building_from_leaf_hashes_equals_appending_data():
    data = [f"r{i}".encode() for i in range(1000)]
    appended = MerkleLog()
    for d in data:
        appended.append(d)
    built = MerkleLog(leaf_hash(d) for d in data)
    assert built.root() == appended.root()
    assert built.inclusion_proof(777) == appended.inclusion_proof(777)
