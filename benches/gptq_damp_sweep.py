"""GPTQ's Hessian damping on all-MiniLM-L6-v2 (int4, groups of 128): mean and
minimum cosine of the sentence embeddings against the float model, per
``damp`` value, calibrated on ``model_report.CALIBRATION`` and evaluated on
the disjoint ``model_report.SENTENCES``. This is how the default
``damp=0.1`` of ``scalezip.quant.gptq_quantize`` was chosen (docs/quant.md).

    HF_HUB_OFFLINE=1 python benches/gptq_damp_sweep.py 0.01 0.05 0.1 0.2

Needs torch and the ``models`` extra; about a minute per value here.
"""

from __future__ import annotations

import copy
import sys

import torch
from scalezip import evaluate as ev
from scalezip import model_report as mr
from scalezip.quant import _nn, quantize_model


def main(argv: list[str]) -> int:
    damps = [float(a) for a in argv] or [0.01, 0.05, 0.1, 0.2]
    torch.manual_seed(0)
    w = mr.minilm_workload()
    with torch.no_grad():
        ref = w.run(w.model, w.inputs)
    original = _nn.gptq_quantize
    try:
        for d in damps:

            def gptq(*a: object, _d: float = d, **k: object) -> object:
                return original(*a, **{**k, "damp": _d})  # type: ignore[arg-type]

            _nn.gptq_quantize = gptq  # type: ignore[assignment]
            m = copy.deepcopy(w.model)
            quantize_model(
                m,
                bits=4,
                group_size=128,
                symmetric=False,
                method="gptq",
                calibration=w.calibration,
            )
            with torch.no_grad():
                f = ev.compare(ref, w.run(m, w.inputs))
            print(
                f"damp {d:<5} mean cosine {f.cosine_mean:.4f}  min {f.cosine_min:.4f}", flush=True
            )
    finally:
        _nn.gptq_quantize = original
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
