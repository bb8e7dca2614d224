"""The ``scalezip`` command line (also ``python -m scalezip``).

``scalezip`` with no arguments runs ``scalezip bench`` on the embedded
corpus: a round-trip check and a speed/ratio table against stdlib zlib.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__, bench


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"levels must be comma-separated integers: {text!r}"
        ) from None
    if not levels or any(not 0 <= lv <= 9 for lv in levels):
        raise argparse.ArgumentTypeError("levels must be in 0..9 (compared with stdlib zlib)")
    return levels


def _bench(args: argparse.Namespace) -> int:
    if args.corpus:
        data, desc = bench.load_corpus(args.corpus)
    else:
        data, desc = bench.default_corpus()
    print(f"scalezip {__version__} bench: {desc}, median of {args.repeat} runs", flush=True)
    rows = bench.run(data, args.levels, args.repeat)
    print("round trips OK (each stream decoded by both libraries)")
    print(bench.format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"corpus": desc, "bytes": len(data), "rows": bench.rows_as_dicts(rows)}, f, indent=2
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scalezip",
        description="Fast, honest compression. With no command, runs 'bench'.",
        epilog="example: scalezip bench --corpus ../shared/corpus/silesia/dickens --levels 1,6,9",
    )
    parser.add_argument("--version", action="version", version=f"scalezip {__version__}")
    sub = parser.add_subparsers(dest="command")
    b = sub.add_parser("bench", help="round trip + speed/ratio against stdlib zlib")
    b.add_argument(
        "--corpus", nargs="+", metavar="PATH", help="files to use instead of the embedded corpus"
    )
    b.add_argument(
        "--levels", type=_levels, default=[1, 6, 9], help="comma-separated levels (default 1,6,9)"
    )
    b.add_argument(
        "--repeat", type=int, default=5, help="timed runs per codec and level (default 5)"
    )
    b.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0] not in sub.choices and argv[0] not in ("-h", "--help", "--version")):
        # No command: options belong to the default command, 'bench'.
        argv = ["bench", *argv]
    args = parser.parse_args(argv)
    try:
        return _bench(args)
    except (OSError, RuntimeError) as e:
        print(f"scalezip: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
