"""The `vton` command as a user runs it."""

from __future__ import annotations

import json

import pytest

from flows.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "rerun-failed", "index"):
        assert command in out


def test_run_then_index_then_rerun(small_catalog, tmp_path, capsys):
    store = str(tmp_path / "store")
    args = [
        "run",
        "--catalog",
        str(small_catalog["products"]),
        "--persons",
        str(small_catalog["persons"]),
        "--store",
        store,
        "--shard-size",
        "2",
        "--run-date",
        "2026-11-24",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    run_id = out.split()[1].rstrip(":")
    assert "planned" in out and "contact sheet:" in out
    summary = out.splitlines()[-4:]
    assert any(line.split()[:2] == ["3", "3"] for line in summary)  # planned 3, ok 3

    assert main(["index", "--store", store, "--product", "tank-text", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["product_id"], r["person_id"], r["status"]) for r in rows] == [
        ("tank-text", "astro", "ok")
    ]
    assert main(["index", "--store", store, "--run-id", run_id]) == 0
    assert capsys.readouterr().out.count(" ok ") == 3

    out_dir = tmp_path / "viton"
    assert main(["export-viton", "--store", store, "--out", str(out_dir), "--run-id", run_id]) == 0
    assert f"run {run_id}: 3 pairs" in capsys.readouterr().out
    pairs = (out_dir / "test_pairs.txt").read_text().split("\n")
    assert len([p for p in pairs if p.strip()]) == 3
    for sub in ("image", "cloth", "cloth-mask", "image-parse", "pose"):
        assert any((out_dir / "test" / sub).iterdir()), sub

    assert main(["rerun-failed", "--run-id", run_id, "--store", store]) == 0
    assert main(args) == 0
    assert "skipped" in capsys.readouterr().out


def test_bad_settings_exit_2(capsys):
    assert main(["run", "--shard-size", "0"]) == 2
    assert "shard_size" in capsys.readouterr().err
