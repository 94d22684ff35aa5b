"""Content digests that key assets and decide what a re-run may skip.

A digest covers everything that changes an output: input bytes, the parameters and the
version of the code or model that produced it. Same digest, same bytes: a re-run finds the
work done and skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

__all__ = ["DIGEST_CHARS", "digest_bytes", "digest_parts", "digest_json", "file_sha256"]

#: Hex characters kept in paths and index columns (64 bits: collisions are not a concern at
#: catalog scale, and paths stay readable).
DIGEST_CHARS = 16


def digest_bytes(data: bytes) -> str:
    """Short sha256 hex digest of raw bytes."""
    return hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]


def digest_parts(*parts: str | bytes) -> str:
    """Digest of several parts, length-prefixed so that ("ab", "c") != ("a", "bc")."""
    h = hashlib.sha256()
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)
    return h.hexdigest()[:DIGEST_CHARS]


def digest_json(obj: Any) -> str:
    """Digest of a JSON-serialisable object, independent of key order."""
    return digest_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def file_sha256(path: str | os.PathLike) -> str:
    """Full sha256 hex digest of a file (model weights: recorded in full, shortened where
    an id needs it), read in 1 MiB blocks so large files never sit in memory whole."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
