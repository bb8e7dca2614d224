"""The two byte-model families, in plain torch.

Both map a (batch, time) int64 tensor of byte values to (batch, time, 256)
next-byte logits: position t's logits are the model's prediction of byte
t + 1 given bytes 0..t. Both also run *incrementally*, carrying a state
from one call to the next, which is what online coding needs (the decoder
can only feed a byte once it has decoded it):

* :class:`ByteLSTM`: embedding, a stacked ``nn.LSTM``, a linear head. The
  state is the LSTM's (h, c).
* :class:`ByteTransformer`: a pre-norm causal transformer with rotary
  position encoding (relative, so a sliding window of keys and values can be
  kept across calls), a 4x GELU MLP and an untied head. The state is the
  absolute position and, per layer, the keys and values of the last
  ``context - 1`` bytes; attention is restricted to a window of ``context``
  bytes whether the input comes in one call or many.

Attention is written out (matmul, mask, softmax) rather than left to a fused
kernel, so the arithmetic done is the same on every call of the same shape;
that, single-threaded CPU execution and ``torch.use_deterministic_algorithms``
are what make the online coder's encoder and decoder agree bit for bit.

Weights are initialised from the spec's seed in a forked RNG, so building a
model never disturbs the caller's random state.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .spec import HEAD_DIM, ModelSpec

__all__ = ["ByteLSTM", "ByteModel", "ByteTransformer", "build_model", "count_parameters"]

State = Any


class ByteModel(nn.Module):
    """Base class of the built-in families: ``forward`` plus a stateful form."""

    spec: ModelSpec

    def init_state(self, batch: int) -> State:
        """The state before the first byte, for ``batch`` independent streams."""
        raise NotImplementedError

    def forward_state(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        """Logits for ``x`` (batch, time) continuing from ``state``, and the new state.

        The new state still carries the autograd graph of this call; detach it
        before feeding it to a call that will be back-propagated separately.
        """
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        logits, _ = self.forward_state(x, self.init_state(x.shape[0]))
        return logits

    @staticmethod
    def detach_state(state: State) -> State:
        """``state`` cut from the autograd graph."""
        if isinstance(state, Tensor):
            return state.detach()
        if isinstance(state, (tuple, list)):
            return type(state)(ByteModel.detach_state(s) for s in state)
        return state


class ByteLSTM(ByteModel):
    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.embed = nn.Embedding(256, spec.width)
        self.lstm = nn.LSTM(spec.width, spec.width, spec.layers, batch_first=True)
        self.head = nn.Linear(spec.width, 256)

    @property
    def _weights(self) -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
        names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")
        params = dict(self.lstm.named_parameters())
        return [
            (
                params[names[0].format(k)],
                params[names[1].format(k)],
                params[names[2].format(k)],
                params[names[3].format(k)],
            )
            for k in range(self.spec.layers)
        ]

    def init_state(self, batch: int) -> State:
        p = self.head.weight
        z = torch.zeros(self.spec.layers, batch, self.spec.width, dtype=p.dtype, device=p.device)
        return (z, z.clone())

    def forward_state(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        if x.shape[1] == 1:
            return self._step(x, state)
        y, new_state = self.lstm(self.embed(x), state)
        return self.head(y), new_state

    def _joined_weights(self) -> list[tuple[Tensor, Tensor, Tensor]]:
        """Per layer ``(w_ih.t(), w_hh.t(), b_ih + b_hh)``, the form :meth:`step` takes."""
        return [(w_ih.t(), w_hh.t(), b_ih + b_hh) for w_ih, w_hh, b_ih, b_hh in self._weights]

    def step_weights(self) -> list[tuple[Tensor, Tensor, Tensor]]:
        """The weights for :meth:`step`, computed without autograd: valid until
        the weights next change."""
        with torch.no_grad():
            return self._joined_weights()

    def _step(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        return self.step(x, state, self._joined_weights())

    def step(
        self, x: Tensor, state: State, weights: list[tuple[Tensor, Tensor, Tensor]]
    ) -> tuple[Tensor, State]:
        """One time step of ``x`` (batch, 1) with the layers' ``weights`` as given by
        :meth:`step_weights` (the same arithmetic as :meth:`forward_state` on one step)."""
        # One time step written out: several times faster than nn.LSTM's
        # per-call overhead at batch sizes of a few dozen, and the same maths
        # (the PyTorch gate order i, f, g, o).
        # F.embedding and F.linear are what the modules call, without the
        # module-call overhead.
        h0, c0 = state
        inp = F.embedding(x[:, 0], self.embed.weight)
        hs, cs = [], []
        for k, (w_ih_t, w_hh_t, bias) in enumerate(weights):
            g = torch.addmm(bias, inp, w_ih_t) + h0[k] @ w_hh_t
            i, f, gg, o = g.chunk(4, dim=1)
            c = torch.sigmoid(f) * c0[k] + torch.sigmoid(i) * torch.tanh(gg)
            inp = torch.sigmoid(o) * torch.tanh(c)
            hs.append(inp)
            cs.append(c)
        return F.linear(inp, self.head.weight, self.head.bias)[:, None], (
            torch.stack(hs),
            torch.stack(cs),
        )


def _rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotary position encoding on the last dimension (pairs of halves)."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class _Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.heads = width // HEAD_DIM
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(
        self,
        x: Tensor,
        cos: Tensor,
        sin: Tensor,
        past: tuple[Tensor, Tensor] | None,
        mask: Tensor,
        keep: int,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        b, t, w = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(w, dim=-1)
        q, k, v = (z.view(b, t, self.heads, HEAD_DIM).transpose(1, 2) for z in (q, k, v))
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(HEAD_DIM))
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, w)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        kept = max(0, k.shape[2] - keep)
        return x, (k[:, :, kept:], v[:, :, kept:])


class ByteTransformer(ByteModel):
    inv_freq: Tensor

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.embed = nn.Embedding(256, spec.width)
        self.blocks = nn.ModuleList(_Block(spec.width) for _ in range(spec.layers))
        self.ln = nn.LayerNorm(spec.width)
        self.head = nn.Linear(spec.width, 256)
        inv = 1.0 / (10000.0 ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
        self.register_buffer("inv_freq", inv, persistent=False)

    def init_state(self, batch: int) -> State:
        return (0, None)

    def forward_state(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        pos, caches = state
        t = x.shape[1]
        past = 0 if caches is None else caches[0][0].shape[2]
        positions = torch.arange(pos, pos + t, dtype=torch.float32, device=x.device)
        angles = positions[:, None] * self.inv_freq[None, :]
        cos, sin = angles.cos(), angles.sin()
        # Query i (absolute pos + i) sees key j (absolute pos - past + j) when
        # the key is not in its future and at most context - 1 bytes back.
        qi = torch.arange(t, device=x.device)[:, None] + past
        kj = torch.arange(past + t, device=x.device)[None, :]
        mask = (kj > qi) | (qi - kj >= self.spec.context)
        keep = self.spec.context - 1
        h = self.embed(x)
        new = []
        for i, block in enumerate(self.blocks):
            h, kv = block(h, cos, sin, None if caches is None else caches[i], mask, keep)
            new.append(kv)
        return self.head(self.ln(h)), (pos + t, new)


def build_model(spec: ModelSpec, device: str | torch.device | None = None) -> ByteModel:
    """The model of ``spec`` with its seeded initial weights (float32).

    The same spec gives the same weights on every call, without touching the
    caller's random state.
    """
    cls = ByteLSTM if spec.family == "lstm" else ByteTransformer
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        model = cls(spec).to(torch.float32)
    return model.to(device) if device is not None else model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
