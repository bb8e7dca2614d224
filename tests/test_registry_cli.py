"""The codec registry (`scalezip.compress/decompress/codecs`) and the file
commands of the `scalezip` command line, end to end through subprocesses:
stdin/stdout, -k, -f, refusal to overwrite, bad input (exit status and a
one-line message) and no partial output after a failure."""

from __future__ import annotations

import gzip as std_gzip
import os
import shutil
import subprocess
import sys
import zlib as std_zlib

import pytest

from conftest import AGAINST_STDLIB, seeded_bytes, text_bytes

pytestmark = pytest.mark.skipif(AGAINST_STDLIB, reason="scalezip's own API")

DATA = text_bytes(200_000, 21) + seeded_bytes(3000, 21)


@pytest.fixture(scope="module")
def scalezip():
    import scalezip

    return scalezip


def test_codecs_lists_formats_with_levels(scalezip):
    codecs = scalezip.codecs()
    assert {"gzip", "zlib", "deflate", "huffman", "lzw"} <= set(codecs)
    for c in codecs.values():
        assert c.extension.startswith(".") and c.description and c.read_by


@pytest.mark.parametrize("codec", ["gzip", "zlib", "deflate"])
@pytest.mark.parametrize("level", [None, 0, 1, 9])
def test_one_shot_round_trip(scalezip, codec, level):
    blob = scalezip.compress(DATA, codec=codec, level=level)
    assert scalezip.decompress(blob, codec=codec) == DATA
    reference = {
        "gzip": std_gzip.decompress,
        "zlib": std_zlib.decompress,
        "deflate": lambda b: std_zlib.decompress(b, -15),
    }[codec]
    assert reference(blob) == DATA


@pytest.mark.parametrize("blob_of", [std_gzip.compress, std_zlib.compress], ids=["gzip", "zlib"])
def test_decompress_sniffs_the_format(scalezip, blob_of):
    assert scalezip.decompress(blob_of(DATA)) == DATA


def test_unknown_format_and_codec_are_clear_errors(scalezip):
    with pytest.raises(scalezip.UnknownFormatError, match="unrecognised format"):
        scalezip.decompress(b"hello world")
    with pytest.raises(scalezip.UnknownFormatError, match="unknown codec 'nope'"):
        scalezip.compress(b"x", codec="nope")
    with pytest.raises(ValueError, match="level 42"):
        scalezip.compress(b"x", codec="gzip", level=42)
    with pytest.raises(TypeError):
        scalezip.compress(b"x", codec="gzip", no_such_option=1)


def cli(*args, stdin=b"", cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "scalezip", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=300,
    )


def test_compress_then_decompress_files_like_gzip(tmp_path):
    src = tmp_path / "data.bin"
    src.write_bytes(DATA)
    r = cli("compress", str(src))
    assert r.returncode == 0, r.stderr
    assert not src.exists()  # gzip-like: input removed after success
    gz = tmp_path / "data.bin.gz"
    assert std_gzip.decompress(gz.read_bytes()) == DATA
    r = cli("decompress", "-k", str(gz))
    assert r.returncode == 0, r.stderr
    assert src.read_bytes() == DATA and gz.exists()


@pytest.mark.parametrize("codec,ext", [("zlib", ".zz"), ("deflate", ".deflate")])
def test_other_codecs_and_levels(tmp_path, codec, ext):
    src = tmp_path / "d"
    src.write_bytes(DATA)
    r = cli("compress", "-k", "-c", codec, "-l", "9", str(src))
    assert r.returncode == 0, r.stderr
    out = tmp_path / f"d{ext}"
    wbits = 15 if codec == "zlib" else -15
    assert std_zlib.decompress(out.read_bytes(), wbits) == DATA
    src.unlink()
    args = ["decompress", str(out)] + (["-c", "deflate"] if codec == "deflate" else [])
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert src.read_bytes() == DATA


def test_stdin_to_stdout_both_ways():
    r = cli("compress", "-", stdin=DATA)
    assert r.returncode == 0, r.stderr
    assert std_gzip.decompress(r.stdout) == DATA
    r = cli("decompress", "-", stdin=std_gzip.compress(DATA))
    assert r.returncode == 0, r.stderr
    assert r.stdout == DATA


def test_refuses_to_overwrite_without_force(tmp_path):
    src = tmp_path / "a"
    src.write_bytes(DATA)
    (tmp_path / "a.gz").write_bytes(b"precious")
    r = cli("compress", str(src))
    assert r.returncode == 1
    assert b"already exists" in r.stderr and r.stderr.count(b"\n") == 1
    assert (tmp_path / "a.gz").read_bytes() == b"precious" and src.exists()
    r = cli("compress", "-f", str(src))
    assert r.returncode == 0, r.stderr
    assert std_gzip.decompress((tmp_path / "a.gz").read_bytes()) == DATA


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],
        lambda b: b[:-8] + bytes(8),
        lambda b: b[:20] + b"\xff" * 50 + b[70:],
    ],
    ids=["truncated", "bad-trailer", "corrupt-body"],
)
def test_bad_input_fails_cleanly_and_leaves_nothing_behind(tmp_path, damage):
    bad = tmp_path / "x.gz"
    bad.write_bytes(damage(std_gzip.compress(DATA)))
    before = sorted(os.listdir(tmp_path))
    r = cli("decompress", str(bad))
    assert r.returncode == 1
    assert r.stderr.startswith(b"scalezip: ") and r.stderr.count(b"\n") == 1
    assert sorted(os.listdir(tmp_path)) == before  # no partial output, input kept


def test_unrecognised_file_is_refused(tmp_path):
    p = tmp_path / "notes.gz"
    p.write_bytes(b"plain text, not gzip")
    r = cli("decompress", str(p))
    assert r.returncode == 1 and b"unrecognised format" in r.stderr
    assert p.exists()


def test_info_reports_format_fields_and_ratio(tmp_path):
    p = tmp_path / "n.gz"
    with std_gzip.GzipFile(str(p), "wb", mtime=1234) as f:
        f.write(DATA)
    r = cli("info", str(p))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "gzip" in out and "mtime: 1234" in out and "name: n" in out
    assert f"original: {len(DATA)} bytes" in out


def test_help_has_examples():
    r = cli("--help")
    assert r.returncode == 0 and b"examples:" in r.stdout


@pytest.mark.parametrize("threads", [0, 2, 3])
def test_gzip_threads_make_one_standard_member(threads):
    from scalezip import gzip as sz_gzip

    data = text_bytes(3_500_000, 5)
    blob = sz_gzip.compress(data, 6, mtime=5, threads=threads)
    assert std_gzip.decompress(blob) == data
    assert blob[:10] == sz_gzip.compress(b"", 6, mtime=5)[:10]  # same header
    # One member: stdlib zlib with wbits=31 reads it all in one stream.
    d = std_zlib.decompressobj(31)
    assert d.decompress(blob) == data and d.eof and d.unused_data == b""
    # Within 0.5 % of the single-threaded size.
    assert len(blob) <= len(sz_gzip.compress(data, 6, mtime=5)) * 1.005


def test_gzip_file_threads_streaming(tmp_path):
    from scalezip import gzip as sz_gzip

    data = text_bytes(2_500_000, 6)
    p = tmp_path / "t.gz"
    with sz_gzip.open(p, "wb", threads=2) as f:
        for i in range(0, len(data), 300_001):
            f.write(data[i : i + 300_001])
    assert std_gzip.decompress(p.read_bytes()) == data
    with pytest.raises(ValueError, match="threads"):
        sz_gzip.compress(b"x", threads=-1)


def test_cli_threads(tmp_path):
    src = tmp_path / "big"
    src.write_bytes(text_bytes(2_200_000, 8))
    r = cli("compress", "-k", "--threads", "2", str(src))
    assert r.returncode == 0, r.stderr
    assert std_gzip.decompress((tmp_path / "big.gz").read_bytes()) == src.read_bytes()
    r = cli("compress", "-k", "-c", "zlib", "--threads", "2", str(src))
    assert r.returncode == 1 and b"no multi-threaded encoder" in r.stderr


def test_cli_lzw_threads(tmp_path, scalezip):
    # Two segments on two cores: one .Z stream, the same bytes as the API's,
    # read back by `decompress` and by Debian's `uncompress` when present.
    from scalezip import lzw

    src = tmp_path / "big"
    data = text_bytes(lzw.SEGMENT_SIZE + 100_000, 11)
    src.write_bytes(data)
    r = cli("compress", "-k", "-q", "-c", "lzw", "--threads", "2", str(src))
    assert r.returncode == 0, r.stderr
    z = (tmp_path / "big.Z").read_bytes()
    assert z == lzw.compress(data, threads=2) != lzw.compress(data)
    assert scalezip.compress(data, codec="lzw", threads=2) == z
    (tmp_path / "big").unlink()
    r = cli("decompress", "-q", str(tmp_path / "big.Z"))
    assert r.returncode == 0, r.stderr
    assert src.read_bytes() == data
    if shutil.which("uncompress"):
        u = subprocess.run(["uncompress", "-c"], input=z, capture_output=True, timeout=120)
        assert u.returncode == 0 and u.stdout == data
