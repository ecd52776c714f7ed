"""Bit-packed fact tables and the Numba kernels that evaluate rules over them.

A fact table is ``(rows, facts)`` booleans (one row per transition, one column per ground
fact); packed, it is ``(rows, words)`` ``uint64``, 64 facts a word. A ground rule body is a
pair of masks (facts that must hold, facts that must not); its *coverage* is the set of rows
where it holds, itself packed over rows (``(rules, row_words)``), so that comparing a
rule's predictions with what happened is an XOR and a popcount.

Example:
    >>> import numpy as np
    >>> table = pack(np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1]], dtype=bool))
    >>> must, must_not = pack(np.array([[1, 0, 0]], dtype=bool)), pack(np.array([[0, 1, 0]], dtype=bool))
    >>> unpack(coverage(table, must, must_not), 3).astype(int).tolist()     # rows 0 and 1 have fact 0; row 1 has fact 1
    [[1, 0, 0]]
"""

from __future__ import annotations

import numba
import numpy as np

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def pack(bits: np.ndarray) -> np.ndarray:
    """``(rows, n)`` booleans to ``(rows, ceil(n / 64))`` uint64 words (bit ``i`` of a row in
    word ``i // 64``, position ``i % 64``)."""
    bits = np.asarray(bits, dtype=bool)
    rows, n = bits.shape
    words = max((n + 63) // 64, 1)
    padded = np.zeros((rows, words * 64), dtype=bool)
    padded[:, :n] = bits
    return np.ascontiguousarray(np.packbits(padded, axis=1, bitorder="little")).view("<u8").astype(np.uint64)


def unpack(words: np.ndarray, n: int) -> np.ndarray:
    """The inverse of :func:`pack`: ``(rows, n)`` booleans."""
    words = np.ascontiguousarray(words, dtype="<u8")
    return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")[:, :n].astype(bool)


@numba.njit(cache=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True)
def coverage(table, must, must_not):
    """Rows of ``table`` where each rule's body holds, packed over rows: ``(rules, row_words)``."""
    rows, words = table.shape
    rules = must.shape[0]
    out = np.zeros((rules, (rows + 63) // 64 if rows else 1), dtype=np.uint64)
    for r in range(rules):
        for i in range(rows):
            ok = True
            for w in range(words):
                if (table[i, w] & must[r, w]) != must[r, w] or (table[i, w] & must_not[r, w]) != 0:
                    ok = False
                    break
            if ok:
                out[r, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    return out


@numba.njit(cache=True)
def mismatches(predicted, observed):
    """Per row of ``predicted`` ``(k, words)``: how many bits differ from ``observed`` ``(words,)``."""
    out = np.zeros(predicted.shape[0], dtype=np.int64)
    for k in range(predicted.shape[0]):
        total = 0
        for w in range(predicted.shape[1]):
            total += _popcount(predicted[k, w] ^ observed[w])
        out[k] = total
    return out


def bit_ops(rules: int, rows: int, words: int) -> int:
    """Word operations :func:`coverage` executes (two ANDs and two compares per word), an
    upper bound: the kernel stops at the first failing word."""
    return 4 * rules * rows * words
