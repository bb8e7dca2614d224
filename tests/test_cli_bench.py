"""The main job, `scalezip bench` (also `python -m scalezip` with no command):
runs end to end through a subprocess, checks round trips, prints the table,
writes JSON, and fails with a one-line message on a bad corpus path."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import AGAINST_STDLIB, text_bytes

pytestmark = pytest.mark.skipif(AGAINST_STDLIB, reason="scalezip's own command line")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scalezip", *args], capture_output=True, text=True, timeout=600
    )


def test_bench_on_a_given_corpus_writes_table_and_json(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(text_bytes(300_000, 11))
    out = tmp_path / "result.json"
    r = run(
        "bench", "--corpus", str(corpus), "--levels", "1,6", "--repeat", "1", "--json", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert "round trips OK" in r.stdout
    assert "scalezip" in r.stdout and "stdlib zlib" in r.stdout
    result = json.loads(out.read_text())
    assert result["bytes"] == 300_000
    rows = {(row["codec"], row["level"]) for row in result["rows"]}
    assert rows == {(c, lv) for c in ("stdlib zlib", "scalezip") for lv in (1, 6)}
    for row in result["rows"]:
        assert 0 < row["ratio"] < 1
        assert row["compress_mb_s"] > 0 and row["decompress_mb_s"] > 0


def test_default_command_is_bench_on_the_embedded_corpus():
    r = run("--levels", "1", "--repeat", "1")
    assert r.returncode == 0, r.stderr
    assert "embedded corpus" in r.stdout
    assert "round trips OK" in r.stdout


def test_missing_corpus_file_is_a_one_line_error(tmp_path):
    r = run("bench", "--corpus", str(tmp_path / "nope"))
    assert r.returncode == 1
    assert r.stderr.startswith("scalezip: ") and r.stderr.count("\n") == 1


def test_bad_levels_are_rejected_by_argparse():
    r = run("bench", "--levels", "x")
    assert r.returncode == 2
    assert "levels" in r.stderr
