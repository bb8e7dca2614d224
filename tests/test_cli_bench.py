"""The main job, `scalezip bench` (also `python -m scalezip` with no command):
runs end to end through a subprocess, checks round trips, prints the table,
writes JSON/CSV and the plot, lists uninstalled anchors as skipped, and
fails with a one-line message on a bad corpus path."""

from __future__ import annotations

import csv
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


def test_bench_on_a_given_corpus_writes_table_json_and_csv(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(text_bytes(300_000, 11))
    out, table = tmp_path / "result.json", tmp_path / "result.csv"
    r = run(
        "bench",
        "--corpus",
        str(corpus),
        "--codecs",
        "scalezip,stdlib-zlib",
        "--repeat",
        "1",
        "--json",
        str(out),
        "--csv",
        str(table),
    )
    assert r.returncode == 0, r.stderr
    assert "round trips OK" in r.stdout
    assert "copy (ceiling)" in r.stdout
    result = json.loads(out.read_text())
    assert result["bytes"] == 300_000 and result["copy_mb_s"] > 0
    rows = {(row["codec"], row["level"]) for row in result["rows"]}
    assert rows == {("scalezip", lv) for lv in (1, 6, 9, 12)} | {
        ("stdlib-zlib", lv) for lv in (1, 6, 9)
    }
    for row in result["rows"]:
        assert 0 < row["ratio"] < 1
        assert row["compress_mb_s"] > 0 and row["decompress_mb_s"] > 0
    with open(table, newline="") as f:
        assert len(list(csv.DictReader(f))) == len(result["rows"])


def test_default_command_is_bench_on_the_embedded_corpus():
    r = run("--codecs", "scalezip,stdlib-zlib", "--repeat", "1")
    assert r.returncode == 0, r.stderr
    assert "embedded corpus" in r.stdout
    assert "round trips OK" in r.stdout


def test_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    corpus = tmp_path / "c.bin"
    corpus.write_bytes(text_bytes(100_000, 3))
    png = tmp_path / "p.png"
    r = run(
        "bench",
        "--corpus",
        str(corpus),
        "--codecs",
        "scalezip",
        "--repeat",
        "1",
        "--plot",
        str(png),
    )
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_anchors_are_listed_as_skipped():
    import scalezip.bench as bench

    found, skipped = bench.available_anchors()
    assert {a.name for a in found} | set(skipped) == set(bench.known_codecs())
    assert {"scalezip", "stdlib-zlib"} <= {a.name for a in found}


def test_missing_corpus_file_is_a_one_line_error(tmp_path):
    r = run("bench", "--corpus", str(tmp_path / "nope"))
    assert r.returncode == 1
    assert r.stderr.startswith("scalezip: ") and r.stderr.count("\n") == 1


def test_unknown_codec_is_rejected_by_argparse():
    r = run("bench", "--codecs", "nope")
    assert r.returncode == 2
    assert "unknown codec" in r.stderr
