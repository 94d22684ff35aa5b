"""The store: one root URL over fsspec, with atomic writes and store-relative keys.

Every artifact the pipeline writes goes through `Store.write_bytes`, which never leaves a
half-written file where a reader could see it: on a local disk it writes a temporary file
under the store's `.tmp/` and renames it into place (same filesystem, so the rename is
atomic); on an object store it is a single PUT
(s3fs turns large bodies into one multipart upload, which is also all-or-nothing). Keys are
'/'-separated paths relative to the root, so the same code runs on `./vton-store`,
`file:///data/vton`, `s3://bucket/prefix` and `memory://` in tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from vton.errors import StoreConfigError, one_line

__all__ = ["Store", "is_local_url", "join_key"]

TMP_DIR = ".tmp"

#: Exception names (botocore's, matched by name so that vton needs no botocore) that mean
#: the store's credentials or endpoint are wrong, not that the service had a bad moment.
_STORE_CONFIG_ERRORS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "EndpointConnectionError",
        "InvalidEndpointError",
        "UnknownEndpointError",
    }
)


def is_local_url(url: str) -> bool:
    """True for plain paths and ``file://`` URLs."""
    return "://" not in url or url.startswith("file://")


def join_key(*parts: str) -> str:
    """Join key parts with '/', refusing components that would escape their directory."""
    out = []
    for part in parts:
        for piece in part.split("/"):
            if piece in ("", "."):
                continue
            if piece == "..":
                raise ValueError(f"key part {part!r} escapes its directory")
            out.append(piece)
    return "/".join(out)


class Store:
    """A root URL on some filesystem, addressed by store-relative keys.

    Cheap to build and picklable through its URL and options, so tasks pass
    ``(url, storage_options)`` and each worker opens its own.
    """

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.storage_options = dict(storage_options or {})
        if is_local_url(url):
            path = url.removeprefix("file://")
            path = os.path.abspath(os.path.expanduser(path))
            self.url = path
            self.fs: fsspec.AbstractFileSystem = fsspec.filesystem("file")
            self.root = path
        else:
            options = dict(self.storage_options)
            if not url.startswith("memory://"):
                # Other processes rewrite index files and manifests; a cached listing would
                # hand out stale sizes and ETags (s3fs then refuses the read as expired).
                options.setdefault("use_listings_cache", False)
            try:
                fs, root = fsspec.core.url_to_fs(url, **options)
            except (ValueError, ImportError) as exc:
                # An unknown protocol (ValueError) or one whose package is not installed
                # (ImportError): the URL is the user's to fix, so say so in one line.
                reason = " ".join(str(exc).split())
                raise StoreConfigError(f"store {url}: {reason}") from exc
            self.fs = fs
            self.root = root.rstrip("/")
            self.url = url.rstrip("/")
        self.is_local = is_local_url(url)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Store, (self.url, self.storage_options))

    def check(self) -> None:
        """Fail fast, before any work, when the store cannot be used at all.

        Raises `StoreConfigError` naming the URL for a local root that is a file, and for an
        object store whose credentials are missing or refused or whose endpoint cannot be
        reached: without this the run would get as far as its first write and stop there
        with a library traceback. Other errors (a transient server error) propagate as
        they are.
        """
        if self.is_local:
            if os.path.exists(self.root) and not os.path.isdir(self.root):
                raise StoreConfigError(f"store {self.url}: is a file, not a directory")
            return
        try:
            self.fs.exists(self.root)
        except PermissionError as exc:
            raise StoreConfigError(f"store {self.url}: access denied: {one_line(exc)}") from exc
        except Exception as exc:
            names = {t.__name__ for t in type(exc).__mro__}
            if names & _STORE_CONFIG_ERRORS:
                raise StoreConfigError(f"store {self.url}: {one_line(exc)}") from exc
            raise

    # -- addressing -------------------------------------------------------------------
    def path(self, key: str) -> str:
        """The filesystem path of `key` (what `self.fs` takes)."""
        key = join_key(key)
        return f"{self.root}/{key}" if key else self.root

    def uri(self, key: str) -> str:
        """The full URL of `key`, as recorded in the index and manifest."""
        key = join_key(key)
        if self.is_local:
            return f"file://{self.path(key)}"
        return f"{self.url}/{key}"

    def key_of(self, path: str) -> str:
        """The key of a filesystem path under this store's root."""
        path = self.fs._strip_protocol(path)
        root = self.fs._strip_protocol(self.root)
        if path != root and not path.startswith(root + "/"):
            raise ValueError(f"{path!r} is not under the store root {root!r}")
        return path[len(root) + 1 :]

    # -- bytes ------------------------------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> str:
        """Write `data` at `key` atomically; return the key's URI."""
        path = self.path(key)
        if self.is_local:
            tmp_dir = os.path.join(self.root, TMP_DIR)
            os.makedirs(tmp_dir, exist_ok=True)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = os.path.join(tmp_dir, f"{uuid.uuid4().hex}.part")
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                # Atomic against a killed process (rename replaces whole). No fsync: every
                # artifact can be regenerated, and an fsync per image costs more than
                # rendering it; a power cut at worst loses the newest files to a re-run.
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            # One PUT: the object appears whole or not at all.
            self.fs.pipe_file(path, data)
        return self.uri(key)

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(self.path(key))

    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))

    def delete(self, key: str) -> None:
        if self.exists(key):
            self.fs.rm_file(self.path(key))

    def list_keys(self, prefix: str) -> list[str]:
        """All keys under `prefix` (recursive), sorted; temporary files excluded."""
        base = self.path(prefix)
        if not self.fs.exists(base):
            return []
        keys = [self.key_of(p) for p in self.fs.find(base)]
        return sorted(k for k in keys if not k.startswith(TMP_DIR + "/"))

    def sweep_temporaries(self) -> int:
        """Remove temporary files left by a killed writer; return how many.

        Only local stores have them (object stores never expose a partial PUT).
        """
        if not self.is_local:
            return 0
        tmp_dir = os.path.join(self.root, TMP_DIR)
        if not os.path.isdir(tmp_dir):
            return 0
        names = os.listdir(tmp_dir)
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(tmp_dir, name))
        return len(names)

    # -- structured helpers -------------------------------------------------------------
    def write_text(self, key: str, text: str) -> str:
        return self.write_bytes(key, text.encode())

    def read_text(self, key: str) -> str:
        return self.read_bytes(key).decode()

    def write_parquet(self, key: str, table: pa.Table) -> str:
        """Serialise in memory, then one atomic write: readers never see a torn file."""
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        return self.write_bytes(key, buf.getvalue())

    def read_parquet(self, key: str, schema: pa.Schema | None = None) -> pa.Table:
        return pq.read_table(io.BytesIO(self.read_bytes(key)), schema=schema)

    @cached_property
    def arrow_fs(self) -> pafs.FileSystem:
        """A pyarrow filesystem for `pyarrow.dataset` over this store."""
        if self.is_local:
            return pafs.LocalFileSystem()
        return pafs.PyFileSystem(pafs.FSSpecHandler(self.fs))

    def iter_files(self, prefix: str, suffix: str = "") -> Iterator[str]:
        for key in self.list_keys(prefix):
            if key.endswith(suffix):
                yield key
