"""RFC 6962 known-answer vectors and proof round trips."""

from __future__ import annotations

import pytest

from peerwatch.oversight._merkle import (
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_hashes,
    verify_consistency,
    verify_inclusion,
)

# The certificate-transparency reference test leaves and the roots of their prefixes.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("n", range(1, 9))
def test_known_roots(n: int) -> None:
    assert root(LEAVES[:n]).hex() == ROOTS[n - 1]


def test_empty_tree_is_hash_of_nothing() -> None:
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_inclusion_and_consistency_round_trip_and_reject_tampering() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(33)]
    for n in range(1, 34):
        r = root_from_hashes(hashes[:n])
        for i in range(n):
            proof = inclusion_proof(i, hashes[:n])
            assert verify_inclusion(i, n, hashes[i], proof, r)
            assert not verify_inclusion(i, n, leaf_hash(b"other"), proof, r)
        for m in range(1, n + 1):
            proof = consistency_proof(m, hashes[:n])
            assert verify_consistency(m, n, root_from_hashes(hashes[:m]), r, proof)
            if m < n:
                assert not verify_consistency(m, n, root_from_hashes([leaf_hash(b"x"), *hashes[1:m]]), r, proof)


# Consistency and inclusion proofs over LEAVES, from the certificate-transparency reference tests.
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


@pytest.mark.parametrize(("m", "n", "expected"), CONSISTENCY)
def test_known_consistency_proofs(m: int, n: int, expected: list[str]) -> None:
    hashes = [leaf_hash(d) for d in LEAVES[:n]]
    proof = MerkleTree(hashes).consistency_proof(m, n)
    assert [p.hex() for p in proof] == expected
    assert verify_consistency(m, n, root(LEAVES[:m]), root(LEAVES[:n]), proof)


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 MTH, the recursive definition, as the brute-force reference."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def _subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [_mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def test_incremental_tree_matches_the_recursive_definition() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(70)]
    tree = MerkleTree()
    for n, h in enumerate(hashes, start=1):
        tree.append(h)
        assert tree.root() == _mth(hashes[:n]) == root_from_hashes(hashes[:n])
    for n in range(1, 71):
        for m in range(1, n + 1):
            assert tree.consistency_proof(m, n) == _subproof(m, hashes[:n], True)
        for i in range(n):
            assert tree.inclusion_proof(i, n) == inclusion_proof(i, hashes[:n])


def test_consistency_proof_rejects_forks_and_shrinking() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(20)]
    forked = [*hashes[:7], leaf_hash(b"forged"), *hashes[8:]]
    tree, fork = MerkleTree(hashes), MerkleTree(forked)
    for m in range(1, 20):
        proof = fork.consistency_proof(m, 20)
        assert verify_consistency(m, 20, fork.root(m), fork.root(20), proof)
        assert not verify_consistency(m, 20, tree.root(m), fork.root(20), proof) or m <= 7
    assert not verify_consistency(20, 10, tree.root(20), tree.root(10), [])
