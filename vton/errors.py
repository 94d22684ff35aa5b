"""Error types that decide a pair's index status.

The nightly run never stops for one bad item. What it records depends on whether trying again
could help: an input that is wrong in itself (corrupt image, no person in the photo, unsafe
id) is `invalid` and stays so until the catalog changes; anything else (an unreachable URL, a
storage hiccup, a bug) is `failed`, and `vton rerun-failed` retries it.
"""

from __future__ import annotations

__all__ = ["InvalidInputError", "CheckpointError", "status_for_exception", "one_line"]


class InvalidInputError(ValueError):
    """An input item that cannot be used as it is; retrying will not help.

    `item` names what was wrong (``product tee-1``, ``person p7``, ``catalog row 12``) so
    that the message recorded in the index is useful on its own.
    """

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"{item}: {reason}")
        self.item = item
        self.reason = reason


class CheckpointError(ValueError):
    """A model file that is missing, unreadable or does not fit the network.

    Raised before any rendering starts, so a misconfigured run fails fast and whole.
    """


def status_for_exception(exc: BaseException) -> str:
    """Index status for an item that raised `exc`: ``invalid`` or ``failed``."""
    return "invalid" if isinstance(exc, InvalidInputError) else "failed"


def one_line(exc: BaseException, limit: int = 500) -> str:
    """A single-line, bounded message for the index's `error` column."""
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, InvalidInputError):
        text = f"{type(exc).__name__}: {text}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
