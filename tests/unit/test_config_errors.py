"""Every configuration the user gets wrong fails as one `ConfigError` that names the value.

The CLI turns exactly these (and nothing else) into one line and exit code 2, so each
setting's factory must raise a `ConfigError` subclass, and a plain ValueError from inside
the run must not be mistaken for one.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from flows.cli import CONFIG_ERRORS, _final_exception_name, _QuietConfigErrors
from vton.cloth.classify import make_classifier
from vton.cloth.masking import MaskerConfigError, make_masker
from vton.errors import CheckpointError, ConfigError, InvalidInputError, StoreConfigError
from vton.models.checkpoints import read_state_dict
from vton.person.parsing import make_parser
from vton.storage import Store


def test_config_errors_share_one_base() -> None:
    for cls in (CheckpointError, MaskerConfigError, StoreConfigError):
        assert issubclass(cls, ConfigError)
    assert (ConfigError,) == CONFIG_ERRORS
    # An invalid catalog item is the data's fault, not the run's configuration.
    assert not issubclass(InvalidInputError, ConfigError)


def test_missing_rembg_model_is_config_error() -> None:
    with pytest.raises(ConfigError, match=re.escape("/nonexistent.onnx")):
        make_masker("rembg:/nonexistent.onnx")


def test_missing_classifier_is_config_error() -> None:
    with pytest.raises(ConfigError, match=re.escape("/nonexistent.pt")):
        make_classifier("/nonexistent.pt")


def test_classifier_that_is_not_weights_is_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "garments.pt"
    bad.write_text("not weights\n")
    with pytest.raises(ConfigError, match="garments"):
        make_classifier(str(bad))


def test_missing_human_parser_is_config_error() -> None:
    with pytest.raises(ConfigError, match=re.escape("/nonexistent.onnx")):
        make_parser("/nonexistent.onnx")


def test_human_parser_that_is_not_onnx_is_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "parser.onnx"
    bad.write_bytes(b"not an onnx model")
    with pytest.raises(ConfigError, match=re.escape("parser.onnx")):
        make_parser(str(bad))


def test_text_checkpoint_is_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "gmm.txt"
    bad.write_text("not a checkpoint\n")
    with pytest.raises(ConfigError, match=re.escape("gmm.txt")):
        read_state_dict(bad)


def test_unknown_store_protocol_is_config_error() -> None:
    with pytest.raises(StoreConfigError, match=re.escape("nosuch://x")):
        Store("nosuch://x")


def test_local_store_that_is_a_file_is_config_error(tmp_path: Path) -> None:
    f = tmp_path / "store"
    f.write_text("")
    with pytest.raises(StoreConfigError, match="not a directory"):
        Store(str(f)).check()
    Store(str(tmp_path / "new")).check()  # a root that does not exist yet is fine


def test_memory_store_check_passes() -> None:
    Store("memory://check-ok").check()


class _FakeFs:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def exists(self, path: str) -> bool:
        raise self.exc


class NoCredentialsError(Exception):
    """Stands in for botocore's (matched by name, so vton needs no botocore)."""


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (NoCredentialsError("Unable to locate credentials"), "Unable to locate credentials"),
        (PermissionError("InvalidAccessKeyId"), "access denied"),
    ],
)
def test_bad_credentials_are_config_error(exc: Exception, text: str) -> None:
    store = Store("memory://creds")
    store.is_local = False
    store.url = "s3://bucket/prefix"
    store.fs = _FakeFs(exc)
    with pytest.raises(StoreConfigError, match=text) as info:
        store.check()
    assert "s3://bucket/prefix" in str(info.value)


def test_other_store_errors_are_not_config_errors() -> None:
    store = Store("memory://flaky")
    store.is_local = False
    store.fs = _FakeFs(TimeoutError("slow down"))
    with pytest.raises(TimeoutError):
        store.check()


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("s3fs") is None, reason="s3fs not installed"
)
def test_s3_without_credentials_is_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no metadata-service probe
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    # A closed local port: nothing leaves the machine whatever botocore decides.
    opts = {"client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}}
    with pytest.raises(StoreConfigError, match=re.escape("s3://bucket/prefix")):
        Store("s3://bucket/prefix", opts).check()


def _record(msg: str, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, msg, None, info)


def test_quiet_filter_drops_only_config_error_tracebacks() -> None:
    quiet = _QuietConfigErrors()
    assert not quiet.filter(_record("boom", CheckpointError("gmm.txt")))
    assert quiet.filter(_record("boom", ValueError("a bug")))
    tb = "Encountered exception during execution:\nTraceback (most recent call last):\n"
    tb += '  File "x.py", line 1, in f\n    g()\n'
    assert not quiet.filter(_record(tb + "vton.errors.StoreConfigError: store nosuch://x"))
    assert not quiet.filter(_record(tb + "vton.cloth.masking.MaskerConfigError: masker"))
    assert quiet.filter(_record(tb + "ValueError: a bug inside the flow"))
    assert quiet.filter(_record("Finished in state Completed()"))


def test_final_exception_name_reads_the_last_exception() -> None:
    tb = (
        "Traceback (most recent call last):\n  File 'a', line 1\n"
        "vton.errors.CheckpointError: x\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "Traceback (most recent call last):\n  File 'b', line 2\nRuntimeError: wrapped"
    )
    assert _final_exception_name(tb) == "RuntimeError"


def test_cli_shows_a_bad_store_of_an_index_query_as_one_line(capsys):
    from flows.cli import main

    assert main(["index", "--store", "nosuch://x"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("vton index: store nosuch://x")
    assert "Traceback" not in err
