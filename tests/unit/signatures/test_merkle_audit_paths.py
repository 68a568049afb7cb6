"""The auditor's fast paths in the Merkle log: bulk build, cached partial subtrees, `InclusionVerifier`, which
must accept exactly the proofs `verify_inclusion` accepts, and `LeafTable`, which must accept exactly the leaves
the signed tree holds at their positions."""

import random

import pytest

from signatures.errors import VerificationError
from signatures.merkle import (
    InclusionProof,
    InclusionVerifier,
    LeafTable,
    MerkleLog,
    leaf_hash,
    verify_inclusion,
)


def _appended(n: int) -> MerkleLog:
    log = MerkleLog()
    for i in range(n):
        log.append(f"leaf {i}".encode())
    return log


def test_a_log_built_from_a_list_equals_one_appended_leaf_by_leaf_and_keeps_growing_the_same():
    for n in range(0, 70):
        appended = _appended(n)
        built = MerkleLog(appended.leaf(i) for i in range(n))
        for extra in (f"x{j}".encode() for j in range(5)):  # appends after a bulk build
            assert built.append(extra) == appended.append(extra)
        size = n + 5
        for m in range(1, size + 1):
            assert built.root(m) == appended.root(m)
            for i in range(m):
                assert built.inclusion_proof(i, m) == appended.inclusion_proof(i, m)
            assert built.consistency_proof(m, size) == appended.consistency_proof(m, size)


def test_a_bulk_build_refuses_a_leaf_hash_of_the_wrong_length():
    with pytest.raises(ValueError):
        MerkleLog([bytes(32), b"short"])


def _variants(log: MerkleLog, i: int, n: int) -> list[tuple[bytes, InclusionProof]]:
    """Tampered (leaf, proof) pairs for leaf i of the tree of n leaves."""
    path = log.inclusion_proof(i, n)
    out = [(log.leaf(i), InclusionProof(i, n, tuple(path[:j] + [bytes(32)] + path[j + 1:]))) for j in range(len(path))]
    out += [(log.leaf(i), InclusionProof(i, n, tuple(path[:-1]))),  # truncated
            (log.leaf(i), InclusionProof(i, n, tuple(path + [bytes(32)]))),  # extended
            (log.leaf(i), InclusionProof(i, n, tuple(path + path[-1:]))),  # extended with a real hash
            (leaf_hash(b"forged"), InclusionProof(i, n, tuple(path)))]  # another leaf, the right path
    if n > 1:
        out.append((log.leaf(i), InclusionProof((i + 1) % n, n, tuple(path))))  # wrong index
    return [(leaf, proof) for leaf, proof in out if proof.hashes != tuple(path) or leaf != log.leaf(i)
            or proof.leaf_index != i]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 13, 32, 37, 64])
def test_the_verifier_accepts_exactly_what_verify_inclusion_accepts(n):
    log = _appended(n)
    root = log.root(n)
    verifier = InclusionVerifier(root, n)
    order = list(range(n))
    random.Random(n).shuffle(order)
    for i in order + order:  # the second round finds every node proven
        proof = InclusionProof(i, n, tuple(log.inclusion_proof(i, n)))
        verify_inclusion(log.leaf(i), proof, root)
        verifier.verify(log.leaf(i), proof)
    # Every node of the tree is proven now: tampered proofs must still fail, as they fail without the verifier.
    for i in order:
        for leaf, proof in _variants(log, i, n):
            with pytest.raises(VerificationError):
                verify_inclusion(leaf, proof, root)
            with pytest.raises(VerificationError):
                verifier.verify(leaf, proof)


def test_the_verifier_refuses_a_proof_against_another_tree_and_out_of_range_indexes():
    log = _appended(20)
    verifier = InclusionVerifier(log.root(20), 20)
    for i in range(20):
        verifier.verify(log.leaf(i), InclusionProof(i, 20, tuple(log.inclusion_proof(i, 20))))
    with pytest.raises(VerificationError):  # a valid proof in the tree of 12, checked against the head of 20
        verifier.verify(log.leaf(3), InclusionProof(3, 12, tuple(log.inclusion_proof(3, 12))))
    for index in (-1, 20):
        with pytest.raises(VerificationError):
            verifier.verify(log.leaf(0), InclusionProof(index, 20, tuple(log.inclusion_proof(0, 20))))
    other = _appended(21)
    with pytest.raises(VerificationError):  # a real proof of another log of the same size would need a collision
        InclusionVerifier(other.root(20), 20).verify(log.leaf(19), InclusionProof(19, 20, (bytes(32),) * 5))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 13, 37])
def test_a_leaf_table_accepts_a_leaf_exactly_where_an_audit_path_proves_it(n):
    stored = _appended(n + 3)  # the stored log may have grown past the head
    head = _appended(n)
    table = LeafTable(stored, head.root(n), n)
    for i in range(n):
        for j in range(n):
            leaf, proof = head.leaf(j), InclusionProof(i, n, ())
            try:
                verify_inclusion(leaf, InclusionProof(i, n, tuple(head.inclusion_proof(i, n))), head.root(n))
                proven = True
            except VerificationError:
                proven = False
            if proven:
                table.verify(leaf, proof)
            else:
                with pytest.raises(VerificationError, match=f"leaf {i} of the tree head is another record's"):
                    table.verify(leaf, proof)
            assert proven == (i == j)
    for index in (-1, n, n + 1):  # the stored log has a leaf n, but the head does not hold it
        with pytest.raises(VerificationError, match="outside"):
            table.verify(stored.leaf(min(max(index, 0), n + 2)), InclusionProof(index, n, ()))
    with pytest.raises(VerificationError, match="a log of"):
        table.verify(head.leaf(0), InclusionProof(0, n + 1, ()))


def test_a_leaf_table_over_rewritten_or_truncated_leaves_fails_every_record_and_says_why():
    log = _appended(20)
    root = log.root(20)
    rewritten = MerkleLog([*(log.leaf(i) for i in range(7)), leaf_hash(b"forged"), *(log.leaf(i) for i in range(8, 20))])
    table = LeafTable(rewritten, root, 20)
    for i in range(20):  # the untouched leaves too: nothing vouches for a log that does not give the signed root
        with pytest.raises(VerificationError, match="rewritten"):
            table.verify(log.leaf(i), InclusionProof(i, 20, ()))
    truncated = LeafTable(MerkleLog(log.leaf(i) for i in range(15)), root, 20)
    with pytest.raises(VerificationError, match="truncated"):
        truncated.verify(log.leaf(0), InclusionProof(0, 20, ()))


def _rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) written literally (leaf hashes given), leaf-to-root order."""
    def mth(d: list[bytes]) -> bytes:
        return MerkleLog(d).root()

    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*_rfc_path(m, leaves[:k]), mth(leaves[k:])]
    return [*_rfc_path(m - k, leaves[k:]), mth(leaves[:k])]


def test_inclusion_proofs_are_the_rfc_path_for_every_leaf_of_every_size_up_to_100():
    log = _appended(100)
    leaves = [log.leaf(i) for i in range(100)]
    for n in range(1, 101):
        for i in range(n):
            assert log.inclusion_proof(i, n) == _rfc_path(i, leaves[:n]), (i, n)
