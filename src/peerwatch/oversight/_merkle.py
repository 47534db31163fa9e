"""RFC 6962 Merkle tree hashing with inclusion and consistency proofs (section 2.1).

leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || left || right); the tree over n leaves splits at the
largest power of two smaller than n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    """Hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash over already-hashed leaves (MTH of RFC 6962)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    level = list(hashes)
    # Iterative form of MTH: pair left to right; an unpaired last node moves up unchanged. This equals the recursive
    # definition because RFC 6962 splits at the largest power of two below n.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle tree hash over raw leaf data."""
    return root_from_hashes([leaf_hash(d) for d in leaves])


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Audit path for leaf `index` in the tree over `hashes` (leaf hashes)."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} out of range for tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, hashes[:k]), root_from_hashes(hashes[k:])]
    return [*inclusion_proof(index - k, hashes[k:]), root_from_hashes(hashes[:k])]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """Check an audit path (RFC 9162 section 2.1.3.2 algorithm) for a leaf hash."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def consistency_proof(old_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Proof that the tree of `old_size` leaves is a prefix of the tree over `hashes`."""
    return MerkleTree(hashes).consistency_proof(old_size, len(hashes))


class MerkleTree:
    """Leaf hashes plus every aligned perfect subtree root, grown one leaf at a time.

    Keeping the perfect subtrees (n - 1 extra hashes) makes the root of any prefix and any proof O(log n) node
    lookups, so a verifier can check a consistency proof between every pair of successive checkpoints of a long log.
    """

    def __init__(self, hashes: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in hashes:
            self.append(h)

    def __len__(self) -> int:
        return len(self.levels[0])

    def append(self, h: bytes) -> None:
        """Add one leaf hash, completing the perfect subtrees it closes."""
        levels = self.levels
        levels[0].append(h)
        i, lvl = len(levels[0]) - 1, 0
        while i & 1:
            parent = node_hash(levels[lvl][i - 1], levels[lvl][i])
            lvl += 1
            if lvl == len(levels):
                levels.append([])
            levels[lvl].append(parent)
            i >>= 1

    def range_root(self, start: int, end: int) -> bytes:
        """MTH over leaves [start, end); RFC 6962's splits always land on aligned perfect subtrees."""
        n = end - start
        if n <= 0:
            return hashlib.sha256(b"").digest()
        if n & (n - 1) == 0 and start % n == 0:
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self.range_root(start, start + k), self.range_root(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree over the first `size` leaves (default: all)."""
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise ValueError(f"tree size {size} not in 0..{len(self)}")
        return self.range_root(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Audit path for leaf `index` in the tree of the first `size` leaves."""
        if not 0 <= index < size <= len(self):
            raise ValueError(f"leaf index {index} out of range for tree of size {size}")
        out: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                out.append(self.range_root(start + k, end))
                end = start + k
            else:
                out.append(self.range_root(start, start + k))
                start += k
        return out[::-1]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 6962 SUBPROOF(m, D[0:n], true)."""
        if not 0 < old_size <= new_size <= len(self):
            raise ValueError(f"old size {old_size} not in 1..{new_size}")
        out: list[bytes] = []
        m, start, end, complete = old_size, 0, new_size, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                out.append(self.range_root(start + k, end))
                end = start + k
            else:
                out.append(self.range_root(start, start + k))
                m, start, complete = m - k, start + k, False
        if not complete:
            out.append(self.range_root(start, end))
        return out[::-1]


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Check a consistency proof (RFC 9162 section 2.1.4.2 algorithm)."""
    if old_size == new_size:
        return old_root == new_root and not proof
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a complete subtree: its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
