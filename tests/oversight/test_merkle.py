"""RFC 6962 known-answer vectors and proof round trips."""

from __future__ import annotations

import pytest

from peerwatch.oversight._merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
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
