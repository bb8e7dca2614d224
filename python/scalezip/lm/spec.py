"""Model specifications: the few numbers that fully determine a byte model.

A :class:`ModelSpec` (family, layers, width, context, seed) is all that is
needed to rebuild a model's *initial* state bit for bit, which is what the
online compressor relies on: the spec travels in the stream header as JSON
instead of the weights. This module does not import torch, so a spec can be
made, parsed and printed where torch is not installed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FAMILIES", "ModelSpec"]

#: The model families :func:`scalezip.lm.build_model` knows.
FAMILIES = ("lstm", "transformer")

#: Width of one attention head in the transformer family.
HEAD_DIM = 32

_NAME = re.compile(r"^(lstm|transformer)-(\d+)x(\d+)(?:-c(\d+))?(?:-s(\d+))?$")


@dataclass(frozen=True)
class ModelSpec:
    """A byte-level model family at one size.

    ``family`` is ``"lstm"`` or ``"transformer"``; ``layers`` and ``width``
    (embedding and hidden size) set the size; ``context`` is the number of
    bytes a transformer attends to (its window) and the length of the
    training segments for either family; ``seed`` fixes the initial weights.
    The short name ``"lstm-2x128"`` (optionally ``-c256`` for the context,
    ``-s7`` for the seed) parses with :meth:`parse`.
    """

    family: str
    layers: int
    width: int
    context: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}; known: {', '.join(FAMILIES)}")
        for field, lo, hi in (
            ("layers", 1, 64),
            ("width", 4, 8192),
            ("context", 1, 1 << 16),
            ("seed", 0, (1 << 63) - 1),
        ):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{field} must be an int from {lo} to {hi}, got {v!r}")
        if self.family == "transformer" and self.width % HEAD_DIM:
            raise ValueError(
                f"transformer width must be a multiple of {HEAD_DIM} (the head size), "
                f"got {self.width}"
            )

    @property
    def name(self) -> str:
        """The short name, e.g. ``lstm-2x128`` (context and seed left out when default)."""
        s = f"{self.family}-{self.layers}x{self.width}"
        if self.context != 64:
            s += f"-c{self.context}"
        if self.seed:
            s += f"-s{self.seed}"
        return s

    @classmethod
    def parse(cls, text: str, *, context: int | None = None, seed: int | None = None) -> ModelSpec:
        """A spec from its short name (``lstm-2x128``, ``transformer-4x256-c128``).

        ``context`` and ``seed`` give defaults for a name that does not set them.
        """
        m = _NAME.match(text.strip())
        if not m:
            raise ValueError(
                f"bad model name {text!r}: expected FAMILY-LAYERSxWIDTH[-cCONTEXT][-sSEED], "
                f"e.g. lstm-2x128, with FAMILY one of {', '.join(FAMILIES)}"
            )
        ctx = int(m[4]) if m[4] else (64 if context is None else context)
        sd = int(m[5]) if m[5] else (0 if seed is None else seed)
        return cls(m[1], int(m[2]), int(m[3]), ctx, sd)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): equal specs give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: Any) -> ModelSpec:
        if not isinstance(d, dict) or set(d) != {"family", "layers", "width", "context", "seed"}:
            raise ValueError(f"not a model spec: {d!r}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        return cls.from_dict(json.loads(text))
