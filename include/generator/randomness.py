"""Deterministic randomness: seeded streams per (seed, day, stream name) and counter hashes.

Two tools, both pure functions of their inputs so any day can be generated alone:

* :func:`stream` gives a numpy ``Generator`` for one (seed, day, purpose); drawing the same
  arrays in the same order from it always yields the same values.
* :func:`hash64` / :func:`hash_uniform` map integer keys (user ids, cookie ids) to
  well-mixed 64-bit values, so a per-entity attribute (an experiment variant, a return day)
  is a function of the entity alone, whatever day it is looked at from.
"""

from __future__ import annotations

import binascii
import zlib
from datetime import date

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def name_key(name: str) -> int:
    """A stable 32-bit integer for a stream or salt name (crc32 does not vary per process)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, day: date | None, name: str, *extra: int) -> np.random.Generator:
    """A generator seeded from (seed, day, name, extra...) through ``SeedSequence``."""
    ordinal = day.toordinal() if day is not None else 0
    entropy = [int(seed), ordinal, name_key(name), *[int(x) for x in extra]]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def hash64(keys: np.ndarray, seed: int, salt: str) -> np.ndarray:
    """splitmix64 of ``keys`` mixed with (seed, salt): uint64, uniform, vectorised."""
    with np.errstate(over="ignore"):
        x = np.asarray(keys).astype(np.uint64)
        x = x ^ np.uint64((int(seed) * 0x9E3779B97F4A7C15 + name_key(salt)) & 0xFFFFFFFFFFFFFFFF)
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def hash_uniform(keys: np.ndarray, seed: int, salt: str) -> np.ndarray:
    """Uniform floats in [0, 1) that are a pure function of (key, seed, salt)."""
    return (hash64(keys, seed, salt) >> np.uint64(11)).astype(np.float64) / float(2**53)


def pick_weighted(u: np.ndarray, weights: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Index of the bucket each uniform ``u`` falls in, for buckets of the given weights."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    cum = cum / cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def hex_ids(values: np.ndarray, prefix: str = "") -> np.ndarray:
    """Format uint64 values as fixed-width 16-char hex strings (object array), vectorised."""
    raw = np.ascontiguousarray(np.asarray(values, dtype=np.uint64).astype(">u8"))
    if raw.size == 0:
        return np.array([], dtype=object)
    hexed = np.frombuffer(binascii.hexlify(raw.tobytes()), dtype="S16").astype("U16")
    out = hexed.astype(object)
    return (prefix + out) if prefix else out
