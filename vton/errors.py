"""Error types that decide a pair's index status.

The nightly run never stops for one bad item. What it records depends on whether trying again
could help: an input that is wrong in itself (corrupt image, no person in the photo, unsafe
id) is `invalid` and stays so until the catalog changes; anything else (an unreachable URL, a
storage hiccup, a bug) is `failed`, and `vton rerun-failed` retries it. Which exception is
which is decided in one place, `vton.failures.failure_status`.

A `ConfigError` is neither: it is the run's own configuration (a checkpoint, masker,
classifier, human parser, store URL or credentials) that cannot work, found before any item
is touched. The run stops whole, and the CLI shows it as one line rather than a crash.
"""

from __future__ import annotations

__all__ = [
    "InvalidInputError",
    "ConfigError",
    "CheckpointError",
    "StoreConfigError",
    "one_line",
]


class InvalidInputError(ValueError):
    """An input item that cannot be used as it is; retrying will not help.

    `item` names what was wrong (``product tee-1``, ``person p7``, ``catalog row 12``) so
    that the message recorded in the index is useful on its own.
    """

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"{item}: {reason}")
        self.item = item
        self.reason = reason


class ConfigError(ValueError):
    """The run's configuration cannot work: the user's to fix, not a crash.

    The message names the setting and the value at fault (a path, a URL), so one line is
    enough; subclasses say which kind of setting.
    """


class CheckpointError(ConfigError):
    """A model file that is missing, unreadable or does not fit the network.

    Raised before any rendering starts, so a misconfigured run fails fast and whole.
    """


class StoreConfigError(ConfigError):
    """A store URL that names no known filesystem, or a store the run cannot reach or is not
    allowed to use (missing or rejected credentials)."""


def one_line(exc: BaseException, limit: int = 500, *, typed: bool = True) -> str:
    """A single-line, bounded message for the index's `error` column. `typed`: an
    unexpected error is prefixed with its class (bad input never is); the command line
    passes False for configuration errors, whose message already names what is wrong."""
    text = str(exc) or type(exc).__name__
    if typed and not isinstance(exc, InvalidInputError):
        text = f"{type(exc).__name__}: {text}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
