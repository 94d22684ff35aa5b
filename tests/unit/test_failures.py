"""vton.failures: which read errors are permanent (invalid) and which transient (failed)."""

from __future__ import annotations

import errno

import pytest

from vton.errors import InvalidInputError
from vton.failures import failure_status


class _HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class _RequestsLike(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__("boom")
        self.response = _Response(status_code)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (IsADirectoryError(errno.EISDIR, "Is a directory"), "invalid"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "invalid"),
        (OSError(errno.ENAMETOOLONG, "File name too long"), "invalid"),
        (InvalidInputError("product x", "not an image"), "invalid"),
        (_HTTPError(403), "invalid"),
        (_HTTPError(410), "invalid"),
        (_RequestsLike(400), "invalid"),
        (FileNotFoundError(errno.ENOENT, "No such file"), "failed"),
        (_HTTPError(404), "failed"),
        (PermissionError(errno.EACCES, "Permission denied"), "failed"),
        (TimeoutError("timed out"), "failed"),
        (ConnectionResetError("reset"), "failed"),
        (ConnectionError("refused"), "failed"),
        (_HTTPError(503), "failed"),
        (_HTTPError(429), "failed"),
        (_HTTPError(408), "failed"),
        (_RequestsLike(502), "failed"),
        (OSError(errno.EIO, "I/O error"), "failed"),
        (RuntimeError("unknown"), "failed"),
    ],
)
def test_failure_status(exc: BaseException, status: str) -> None:
    assert failure_status(exc) == status
