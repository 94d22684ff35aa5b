"""The one place that says whether an item's failure is permanent (`invalid`) or not.

Every stage that records an item or pair as failed asks `failure_status`: reading and
preparing inputs, and rendering.

`invalid` means re-running cannot help (the input itself is wrong: a directory where a file
belongs, an undecodable image, a URL the server refuses for good), so `rerun-failed`
leaves it alone; `failed` means it may succeed later (network, timeout, 5xx, a permission
that may be granted, a file not uploaded yet), so `rerun-failed` retries it.
"""

from __future__ import annotations

import errno

from vton.errors import InvalidInputError

__all__ = ["PERMANENT_HTTP", "failure_status"]

#: HTTP statuses that will not change on a retry (408 timeout and 429 throttling will).
PERMANENT_HTTP = frozenset({400, 401, 403, 404, 405, 406, 410, 411, 413, 414, 415, 422, 451})
#: OS errors of a path that can never be read as a file, whatever happens later.
_PERMANENT_ERRNO = frozenset({errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG, errno.EINVAL})


def _http_status(exc: BaseException) -> int | None:
    for attr in ("status", "status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status", None) or getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def failure_status(exc: BaseException) -> str:
    """``invalid`` for a permanent failure to read an input, ``failed`` for a transient one.

    Missing files (FileNotFoundError, HTTP 404 through fsspec) count as transient: the
    catalog often names an image that is uploaded later, and a re-run then completes it.
    """
    if isinstance(exc, InvalidInputError):
        return "invalid"
    if isinstance(exc, (IsADirectoryError, NotADirectoryError)):
        return "invalid"
    if isinstance(exc, (FileNotFoundError, PermissionError, TimeoutError, ConnectionError)):
        return "failed"
    status = _http_status(exc)
    if status is not None and status != 404:
        return "invalid" if status in PERMANENT_HTTP else "failed"
    if isinstance(exc, OSError) and exc.errno in _PERMANENT_ERRNO:
        return "invalid"
    return "failed"
