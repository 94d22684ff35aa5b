"""`vton.errors.one_line`: the one-line messages of the index and of the command line."""

from __future__ import annotations

from vton.errors import ConfigError, InvalidInputError, one_line


def test_unexpected_errors_name_their_class_bad_input_does_not():
    assert one_line(ValueError("bad\n  value")) == "ValueError: bad value"
    assert one_line(InvalidInputError("g1", "no garment")).startswith("g1")
    assert one_line(KeyError()) == "KeyError: KeyError"


def test_the_command_line_shows_a_config_errors_own_words_bounded():
    exc = ConfigError("store s3://x:\n access denied")
    assert one_line(exc, typed=False) == "store s3://x: access denied"
    assert one_line(ConfigError(), typed=False) == "ConfigError"
    long = one_line(ConfigError("x" * 3000), 2000, typed=False)
    assert len(long) == 2000 and long.endswith("...")
