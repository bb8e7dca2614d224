"""The ``scalezip`` command line (also ``python -m scalezip``).

Commands:

* ``bench`` (the default): round trip + speed/ratio against stdlib zlib.
* ``compress FILE...`` / ``decompress FILE...``: gzip-like file handling.
  ``-`` is stdin/stdout. Output goes to a temporary file in the destination
  folder and is renamed into place only when complete, so a failure never
  leaves a partial output and never removes the input. Like gzip, the input
  is removed after success unless ``-k``; an existing output is refused
  unless ``-f``.
* ``info FILE...``: detected format, header fields, sizes and ratio.

Errors are one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from . import __version__, bench, registry, zlib
from ._errors import ScalezipError
from ._fileio import atomic_output

CHUNK = 1 << 20
PROGRESS_MIN_BYTES = 4 << 20

EPILOG = r"""examples:
  scalezip                                   bench on the embedded corpus
  scalezip bench --corpus data.bin --codecs scalezip,stdlib-zlib --plot out.png
  scalezip compress big.log                  -> big.log.gz (big.log removed)
  scalezip compress -k -c zlib -l 9 a.bin    -> a.bin.zz, a.bin kept
  scalezip compress --threads 0 big.tar      -> big.tar.gz using every core
  scalezip compress -c cm --threads 2 book   -> book.szcm, segments on 2 cores
  tar c dir | scalezip compress - > dir.tar.gz
  scalezip decompress big.log.gz             -> big.log
  scalezip info big.log.gz
  scalezip lm scaling --tiny --out /tmp/s    bits/byte vs model size (needs torch)
  scalezip model compress model.safetensors  -> model.szt, lossless ('scalezip model -h')
"""


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def _codec_list(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = sorted(set(names) - set(bench.known_codecs()))
    if not names or unknown:
        known = ", ".join(bench.known_codecs())
        raise argparse.ArgumentTypeError(f"unknown codec(s) {unknown or text!r}; known: {known}")
    return names


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise CliError("--repeat must be at least 1")
    if args.corpus:
        data, desc = bench.load_corpus(args.corpus)
    else:
        data, desc = bench.default_corpus()
    anchors, skipped = bench.available_anchors(args.codecs)
    print(
        f"scalezip {__version__} bench: {desc}, median of {args.repeat} interleaved runs",
        flush=True,
    )
    if skipped:
        print(f"skipped (not installed; pip install 'scalezip[bench]'): {', '.join(skipped)}")
    bar = _progress_steps(bench.steps(anchors, args.repeat), args.quiet)
    try:
        rows, copy_mb_s = bench.run(data, anchors, args.repeat, bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    print("round trips OK (DEFLATE streams also decoded by the other library)")
    print(bench.format_table(rows, copy_mb_s))
    if args.json:
        bench.write_json(args.json, desc, len(data), rows, copy_mb_s, skipped)
    if args.csv:
        bench.write_csv(args.csv, rows)
    if args.plot:
        bench.plot(args.plot, rows, desc)
        print(f"plot written to {args.plot}")
    return 0


def _progress_steps(total: int, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="bench", file=sys.stderr, leave=False)


@contextmanager
def _atomic_output(path: str, force: bool) -> Iterator[IO[bytes]]:
    """The output file, written atomically; refused if it exists, unless forced."""
    if os.path.exists(path) and not force:
        raise CliError(f"{path} already exists; use -f to overwrite")
    with atomic_output(path) as f:
        yield f


def _progress(total: int | None, quiet: bool, desc: str) -> Any:
    """A tqdm bar on stderr for big inputs when stderr is a terminal."""
    if quiet or total is None or total < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr, leave=False)


def _copy(src: IO[bytes], dst: registry.Writer, bar: Any) -> None:
    while chunk := src.read(CHUNK):
        dst.write(chunk)
        if bar is not None:
            bar.update(len(chunk))


def _input_size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _compress_stream(
    codec: registry.Codec,
    level: int | None,
    src: IO[bytes],
    dst: IO[bytes],
    bar: Any,
    threads: int = 1,
    size_hint: int | None = None,
) -> None:
    w = codec.writer(dst, level, threads, size_hint)
    try:
        _copy(src, w, bar)
    finally:
        w.close()


def _decompress_stream(
    codec: registry.Codec, src: IO[bytes], dst: IO[bytes], bar: Any, threads: int = 1
) -> None:
    # Codecs without a multi-core decoder decode on one core, whatever --threads says.
    r = codec.reader(src, threads if codec.parallel_decoder else 1)
    try:
        while chunk := r.read(CHUNK):
            dst.write(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        r.close()


def _cmd_compress(args: argparse.Namespace) -> int:
    codec = registry.get(args.codec)
    try:
        level = codec.check_level(args.level)
        if args.threads < 0:
            raise ValueError("--threads must be 0 (all cores) or more")
        if args.threads != 1 and not codec.parallel:
            raise ValueError(f"codec {codec.name!r} has no multi-threaded encoder")
    except ValueError as e:
        raise CliError(str(e)) from None
    for path in args.files:
        if path == "-":
            _compress_stream(codec, level, sys.stdin.buffer, sys.stdout.buffer, None, args.threads)
            sys.stdout.buffer.flush()
            continue
        if path.endswith(codec.extension) and not args.force:
            raise CliError(
                f"{path} already has the {codec.extension} suffix; use -f to compress it anyway"
            )
        with open(path, "rb") as src:
            size = _input_size(path)
            bar = _progress(size, args.quiet, os.path.basename(path))
            if args.stdout:
                _compress_stream(codec, level, src, sys.stdout.buffer, bar, args.threads, size)
                sys.stdout.buffer.flush()
            else:
                out = args.output or path + codec.extension
                with _atomic_output(out, args.force) as dst:
                    _compress_stream(codec, level, src, dst, bar, args.threads, size)
                shutil.copystat(path, out)
            if bar is not None:
                bar.close()
        if not (args.keep or args.stdout):
            os.unlink(path)
    return 0


def _codec_for_file(path: str, name: str | None, head: bytes) -> registry.Codec:
    if name is not None:
        return registry.get(name)
    try:
        return registry.detect(head)
    except registry.UnknownFormatError as e:
        raise CliError(f"{path}: {e}") from None


def _output_name(path: str, codec: registry.Codec) -> str:
    if path.endswith(codec.extension) and len(path) > len(codec.extension):
        return path[: -len(codec.extension)]
    raise CliError(
        f"{path}: unknown suffix (expected {codec.extension}); use -o to name the output"
    )


class _Peeked:
    """A read-only stream with the bytes already read put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._rest.read(n)

    def readable(self) -> bool:
        return True


def _cmd_decompress(args: argparse.Namespace) -> int:
    if args.threads < 0:
        raise CliError("--threads must be 0 (all cores) or more")
    for path in args.files:
        if path == "-":
            head = sys.stdin.buffer.read(8)
            codec = _codec_for_file("<stdin>", args.codec, head)
            src: Any = _Peeked(head, sys.stdin.buffer)
            _decompress_stream(codec, src, sys.stdout.buffer, None, args.threads)
            sys.stdout.buffer.flush()
            continue
        with open(path, "rb") as f:
            codec = _codec_for_file(path, args.codec, f.read(8))
            f.seek(0)
            bar = _progress(_input_size(path), args.quiet, os.path.basename(path))
            if args.stdout:
                _decompress_stream(codec, f, sys.stdout.buffer, bar, args.threads)
                sys.stdout.buffer.flush()
            else:
                out = args.output or _output_name(path, codec)
                with _atomic_output(out, args.force) as dst:
                    _decompress_stream(codec, f, dst, bar, args.threads)
                shutil.copystat(path, out)
            if bar is not None:
                bar.close()
        if not (args.keep or args.stdout):
            os.unlink(path)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    for path in args.files:
        with open(path, "rb") as f:
            head = f.read(8)
            codec = _codec_for_file(path, args.codec, head)
            f.seek(0)
            size = os.path.getsize(path)
            original = 0
            r = codec.reader(f)
            while chunk := r.read(CHUNK):
                original += len(chunk)
            fields = _header_fields(codec.name, path)
        ratio = size / original if original else float("nan")
        print(f"{path}: {codec.name} ({codec.description})")
        for k, v in fields.items():
            print(f"  {k}: {v}")
        print(f"  compressed: {size} bytes, original: {original} bytes, ratio: {ratio:.4f}")
    return 0


def _header_fields(codec: str, path: str) -> dict[str, Any]:
    """Header fields worth showing, read with the native header parser."""
    if codec == "cm":
        with open(path, "rb") as f:
            head = f.read(11)
        fields: dict[str, Any] = {"format version": head[4], "level": head[5]}
        if head[4] >= 2:
            fields["block"] = f"{1 << head[6]} bytes"
        if head[4] == 3:
            per = int.from_bytes(head[7:11], "little") << head[6]
            fields["segments"] = f"{per} bytes each, coded independently"
        return fields
    if codec not in ("gzip", "zlib"):
        return {}
    from . import _native

    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    d = _native.Decompressor(2 if codec == "gzip" else 1, 15)
    try:
        d.decompress(head, 1)
    except zlib.error:
        pass
    if codec == "zlib":
        return {"window": f"{1 << ((head[0] >> 4) + 8)} bytes"}
    out: dict[str, Any] = {"mtime": d.mtime, "os": d.os}
    if d.filename is not None:
        out["name"] = d.filename.decode("latin-1")
    if d.comment is not None:
        out["comment"] = d.comment.decode("latin-1")
    if d.extra is not None:
        out["extra"] = f"{len(d.extra)} bytes"
    return out


def _cmd_lm(argv: list[str]) -> int:
    """``scalezip lm scaling ...``, handed whole to scalezip.lm.scaling (which needs torch)."""
    if argv[:1] != ["scaling"]:
        print("usage: scalezip lm scaling [DATA] [--out DIR] [--sizes ...]", file=sys.stderr)
        return 2
    from .lm.scaling import main as scaling_main

    return scaling_main(argv[1:])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalezip",
        description="Fast, honest compression. With no command, runs 'bench'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"scalezip {__version__}")
    sub = parser.add_subparsers(dest="command")

    b = sub.add_parser("bench", help="scalezip beside the other compressors, on real data")
    b.add_argument(
        "--corpus", nargs="+", metavar="PATH", help="files instead of the embedded corpus"
    )
    b.add_argument(
        "--codecs",
        type=_codec_list,
        help=f"comma-separated, from {', '.join(bench.known_codecs())} (default: all installed)",
    )
    b.add_argument(
        "--repeat", type=int, default=3, help="timed runs per codec and level (default 3)"
    )
    b.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    b.add_argument("--csv", metavar="FILE", help="also write the results as CSV")
    b.add_argument("--plot", metavar="PNG", help="draw the ratio-vs-speed chart (needs matplotlib)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_cmd_bench)

    names = sorted(registry.codecs())
    for name, func, what in (
        ("compress", _cmd_compress, "compress files (gzip-like)"),
        ("decompress", _cmd_decompress, "decompress files; the format is detected"),
    ):
        p = sub.add_parser(name, help=what)
        p.add_argument("files", nargs="+", metavar="FILE", help="files, or - for stdin")
        p.add_argument(
            "-c",
            "--codec",
            choices=names,
            default="gzip" if name == "compress" else None,
            help="codec (compress default: gzip; decompress: detected)",
        )
        if name == "compress":
            p.add_argument("-l", "--level", type=int, help="compression level (codec default)")
            p.add_argument(
                "--threads",
                type=int,
                default=1,
                help="cores to compress with, 0 = all (gzip: one ordinary gzip member; lzw: "
                "4 MiB segments joined by CLEAR codes; cm: inputs of 8 MiB or more in "
                "segments, a model per core)",
            )
        else:
            p.add_argument(
                "--threads",
                type=int,
                default=1,
                help="cores to decompress with, 0 = all (cm streams written with threads; "
                "other formats decode on one core)",
            )
        p.add_argument("-o", "--output", help="output file (one input only)")
        p.add_argument("--stdout", action="store_true", help="write to stdout, keep the input")
        p.add_argument("-k", "--keep", action="store_true", help="keep the input file")
        p.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
        p.set_defaults(func=func)

    i = sub.add_parser("info", help="format, header fields, sizes and ratio")
    i.add_argument("files", nargs="+", metavar="FILE")
    i.add_argument("-c", "--codec", choices=names, help="codec (default: detected)")
    i.set_defaults(func=_cmd_info)

    sub.add_parser("lm", help="neural byte models: 'scalezip lm scaling --help' (needs torch)")
    sub.add_parser("model", help="checkpoints: 'scalezip model compress|decompress|inspect|eval'")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lm"]:
        return _cmd_lm(argv[1:])
    if argv[:1] == ["model"]:
        from .model_cli import main as model_main

        return model_main(argv[1:])
    commands = {"bench", "compress", "decompress", "info", "-h", "--help", "--version"}
    if not argv or argv[0] not in commands:
        # No command: options belong to the default command, 'bench'.
        argv = ["bench", *argv]
    args = parser.parse_args(argv)
    if getattr(args, "output", None) and len(args.files) > 1:
        parser.error("-o/--output takes exactly one input file")
    try:
        return int(args.func(args))
    except (CliError, ScalezipError, EOFError, OSError, RuntimeError) as e:
        print(f"scalezip: {e}", file=sys.stderr)
        return 1
