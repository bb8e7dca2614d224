"""scalezip.lm: specs, the two model families, bits_per_byte against a direct
computation, online compression (exact round trips, the same bytes from
another process, damaged or foreign streams refused) and the scaling command
at its tiny size. Skipped where torch is not installed."""

from __future__ import annotations

import json
import math
import os
import pathlib
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scalezip.entropy")
from scalezip import lm  # noqa: E402
from scalezip.lm import coding, scaling  # noqa: E402
from scalezip.lm.models import ByteLSTM, build_model, count_parameters  # noqa: E402

TEXT = (
    b"It was the best of times, it was the worst of times, it was the age of wisdom, "
    b"it was the age of foolishness, it was the epoch of belief, it was the epoch of "
    b"incredulity, it was the season of Light, it was the season of Darkness. "
) * 2
LSTM = lm.ModelSpec("lstm", 1, 16, context=8, seed=3)
TRANSFORMER = lm.ModelSpec("transformer", 1, 32, context=8, seed=5)
SPECS = [LSTM, TRANSFORMER]
ids = [s.name for s in SPECS]


def _python_env() -> dict[str, str]:
    env = dict(os.environ)
    import scalezip

    root = os.path.dirname(os.path.dirname(scalezip.__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


# --- specs ------------------------------------------------------------------


def test_spec_json_and_names() -> None:
    s = lm.ModelSpec.parse("transformer-4x256-c128-s7")
    assert s == lm.ModelSpec("transformer", 4, 256, 128, 7)
    assert lm.ModelSpec.from_json(s.to_json()) == s
    assert s.name == "transformer-4x256-c128-s7"
    assert lm.ModelSpec.parse("lstm-2x64").name == "lstm-2x64"
    assert lm.ModelSpec.parse("lstm-2x64", context=16).context == 16
    for bad in ("gru-1x8", "lstm-0x8", "lstm-1x2", "transformer-1x48", "lstm2x8"):
        with pytest.raises(ValueError):
            lm.ModelSpec.parse(bad)
    with pytest.raises(ValueError):
        lm.ModelSpec.from_dict({"family": "lstm", "layers": 1, "width": 8, "context": 8})
    with pytest.raises(ValueError):
        lm.ModelSpec("lstm", True, 8)  # type: ignore[arg-type]


def test_import_scalezip_does_not_import_torch() -> None:
    code = "import sys, scalezip, scalezip.lm; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, env=_python_env())


def test_missing_torch_is_a_clear_import_error() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from scalezip import lm\n"
        "try:\n    lm.build_model(lm.ModelSpec('lstm', 1, 8))\n"
        "except ImportError as e:\n    assert 'scalezip[torch]' in str(e), e\n"
        "else:\n    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_python_env())


# --- models -----------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_build_is_seeded_and_leaves_rng_alone(spec: lm.ModelSpec) -> None:
    torch.manual_seed(99)
    before = torch.rand(3)
    torch.manual_seed(99)
    a, b = build_model(spec), build_model(spec)
    assert torch.equal(torch.rand(3), before)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    c = build_model(lm.ModelSpec(spec.family, spec.layers, spec.width, spec.context, 1))
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_sizes_span_the_advertised_range() -> None:
    small = count_parameters(build_model(lm.ModelSpec.parse("lstm-1x16")))
    assert 5_000 < small < 20_000
    # Parameter count of a 6x512 transformer, without building it: 12 d^2 per
    # layer plus embeddings; check the formula against a small built one.
    t = count_parameters(build_model(lm.ModelSpec.parse("transformer-2x64")))
    assert t == 2 * (12 * 64 * 64 + 13 * 64) + 2 * 64 + 256 * 64 + 64 * 256 + 256


@pytest.mark.parametrize("spec", SPECS, ids=ids)
@pytest.mark.parametrize("chunk", [1, 3, 8])
def test_incremental_equals_full_forward(spec: lm.ModelSpec, chunk: int) -> None:
    model = build_model(spec)
    x = torch.randint(0, 256, (2, 21), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model(x)
        state, parts = model.init_state(2), []
        for i in range(0, 21, chunk):
            logits, state = model.forward_state(x[:, i : i + chunk], state)
            parts.append(logits)
    assert torch.allclose(torch.cat(parts, dim=1), full, atol=1e-5)


def test_lstm_cached_step_equals_forward_state() -> None:
    # The online coder's fast path (weights transposed and biases summed once
    # per training step) must give the same bits as forward_state, or the
    # stream format would silently change.
    model = build_model(lm.ModelSpec("lstm", 2, 24, seed=1))
    assert isinstance(model, ByteLSTM)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x = torch.randint(0, 256, (3, 9), generator=torch.Generator().manual_seed(2))
    state = fast = model.init_state(3)
    for i in range(9):
        with torch.no_grad():
            a, state = model.forward_state(x[:, i : i + 1], state)
            b, fast = model.step(x[:, i : i + 1], fast, model.step_weights())
        assert torch.equal(a, b)
        assert all(torch.equal(u, v) for u, v in zip(state, fast, strict=True))
        model(x).logsumexp(-1).sum().backward()  # the weights change between steps
        opt.step()


def test_transformer_window_limits_attention() -> None:
    # With context 8, the prediction at position 20 must not depend on byte 5.
    model = build_model(TRANSFORMER)
    x = torch.randint(0, 256, (1, 24), generator=torch.Generator().manual_seed(1))
    y = x.clone()
    y[0, 5] ^= 1
    with torch.no_grad():
        a, b = model(x), model(y)
    assert torch.equal(a[0, 20], b[0, 20])
    assert not torch.equal(a[0, 6], b[0, 6])


# --- bits_per_byte ----------------------------------------------------------


def _direct_bpb(model: torch.nn.Module, data: bytes, context: int, stride: int) -> float:
    """Each byte i >= 1 scored from the window the definition assigns it."""
    bits = 8.0
    with torch.no_grad():
        for i in range(1, len(data)):
            a = 0 if i <= context else -(-(i - context) // stride) * stride
            x = torch.tensor([list(data[a:i])], dtype=torch.int64)
            logp = torch.log_softmax(model(x)[0, -1].double(), dim=-1)
            bits -= float(logp[data[i]]) / math.log(2)
    return bits / len(data)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
@pytest.mark.parametrize("stride", [8, 3])
def test_bits_per_byte_matches_direct_computation(spec: lm.ModelSpec, stride: int) -> None:
    model = build_model(spec)
    data = TEXT[:41]
    got = lm.bits_per_byte(model, data, stride=stride, batch_size=4)
    assert got == pytest.approx(_direct_bpb(model, data, 8, stride), rel=1e-5)
    assert model.training  # restored


def test_bits_per_byte_user_callable() -> None:
    def uniform(x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*x.shape, 256)

    assert lm.bits_per_byte(uniform, TEXT, context=32) == pytest.approx(8.0, abs=1e-9)

    def knows_next(x: torch.Tensor) -> torch.Tensor:
        # Peeks at the future (not causal), so it predicts every byte but the first.
        out = torch.full((*x.shape, 256), -30.0)
        nxt = torch.tensor(np.frombuffer(TEXT, dtype=np.uint8)[1:].astype(np.int64))
        flat = nxt[: x.numel()].view(x.shape)
        return out.scatter(2, flat[..., None], 30.0)

    assert lm.bits_per_byte(knows_next, TEXT, context=len(TEXT) - 1) < 8.0 / len(TEXT) + 1e-6
    with pytest.raises(ValueError):
        lm.bits_per_byte(uniform, b"")
    with pytest.raises(ValueError):
        lm.bits_per_byte(lambda x: torch.zeros(1, 1, 256), TEXT, context=4)


# --- online compression -----------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=ids)
@pytest.mark.parametrize(
    ("data", "streams"),
    [(b"", 4), (b"x", 4), (TEXT[:5], 16), (TEXT[:77], 3), (TEXT, 1), (TEXT, 8)],
)
def test_round_trip(spec: lm.ModelSpec, data: bytes, streams: int) -> None:
    blob = lm.compress(data, spec, streams=streams)
    assert lm.decompress(blob) == data
    assert lm.decompress(bytearray(blob), spec=spec) == data


def test_learns_and_restores_torch_settings() -> None:
    threads = torch.get_num_threads()
    data = TEXT * 3
    blob = lm.compress(data, lm.ModelSpec("lstm", 1, 32, context=16), streams=2, lr=1e-2)
    assert len(blob) < len(data) * 0.8  # it learns the repeats
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


def test_same_bytes_from_another_process() -> None:
    code = (
        "import sys; from scalezip import lm\n"
        "data = sys.stdin.buffer.read()\n"
        "for js in sys.argv[1:]:\n"
        "    print(lm.compress(data, lm.ModelSpec.from_json(js), streams=3).hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *(s.to_json() for s in SPECS)],
        input=TEXT,
        capture_output=True,
        check=True,
        env=_python_env(),
    ).stdout.split()
    assert len(out) == len(SPECS)
    for spec, hexed in zip(SPECS, out, strict=True):
        other = bytes.fromhex(hexed.decode())
        assert other == lm.compress(TEXT, spec, streams=3)
        assert lm.decompress(other) == TEXT


def _reference_compress(data: bytes, spec: lm.ModelSpec, streams: int) -> bytes:
    """Stream version 1's arithmetic spelled out plainly (model.forward_state one
    step at a time, entropy.quantize_probs, one encode call per live stream and
    step), to pin the format against the coder's faster loop."""
    from scalezip import _native, entropy
    from torch.nn import functional as F

    n = len(data)
    with coding._deterministic():
        model = build_model(spec)
        opt = torch.optim.Adam(
            model.parameters(), lr=coding.default_lr(spec), betas=coding.BETAS, eps=coding.EPS
        )
        length = -(-n // streams)
        valid = [max(0, min(length, n - r * length)) for r in range(streams)]
        grid = torch.zeros(streams * length, dtype=torch.int64)
        grid[:n] = torch.tensor(list(data), dtype=torch.int64)
        grid = grid.view(streams, length)
        enc = _native.EntropyRangeEncoder()
        state, prev = model.init_state(streams), torch.zeros(streams, dtype=torch.int64)
        for t0 in range(0, length, spec.context):
            t1 = min(length, t0 + spec.context)
            start_state, start_prev = state, prev
            for t in range(t0, t1):
                with torch.no_grad():
                    logits, state = model.forward_state(prev[:, None], state)
                    probs = F.softmax(logits[:, 0], dim=-1)
                freqs = entropy.quantize_probs(probs.numpy(), 16)
                for r in range(streams):
                    if t < valid[r]:
                        enc.encode(freqs[r], 256, int(grid[r, t]))
                prev = grid[:, t]
            x = torch.cat((start_prev[:, None], grid[:, t0 : t1 - 1]), dim=1)
            y = grid[:, t0:t1].clone()
            for r, v in enumerate(valid):
                if v < t1:
                    y[r, max(0, v - t0) :] = -100
            if bool((y < 0).all()):
                continue
            logits, _ = model.forward_state(x, start_state)
            loss = F.cross_entropy(logits.reshape(-1, 256), y.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        payload = enc.finish()
    return payload


@pytest.mark.parametrize(
    "spec", [lm.ModelSpec("lstm", 2, 16, context=5, seed=4), TRANSFORMER], ids=["lstm", "tf"]
)
def test_stream_matches_plain_reference(spec: lm.ModelSpec) -> None:
    data = TEXT[:150]  # 150 = 4 * 38 - 2: the last stream is padded by two bytes
    blob = lm.compress(data, spec, streams=4)
    off, plen = coding.read_header(blob)["payload"]
    assert blob[off:] == _reference_compress(data, spec, 4)


@pytest.fixture(scope="module")
def blob() -> bytes:
    return lm.compress(TEXT, LSTM, streams=4)


def _with_meta(blob: bytes, **changes: object) -> bytes:
    (hlen,) = struct.unpack_from("<H", blob, 5)
    meta = json.loads(blob[7 : 7 + hlen])
    meta.update(changes)
    head = json.dumps(meta).encode()
    return blob[:5] + struct.pack("<H", len(head)) + head + blob[7 + hlen :]


def test_header(blob: bytes) -> None:
    h = coding.read_header(blob)
    assert h["spec"] == LSTM and h["streams"] == 4 and h["length"] == len(TEXT)
    assert h["torch"] == torch.__version__


def test_other_torch_or_kernels_refused(blob: bytes) -> None:
    with pytest.raises(
        lm.LMError, match=r"torch version '1\.0\.0'.*" + re.escape(torch.__version__)
    ):
        lm.decompress(_with_meta(blob, torch="1.0.0"))
    with pytest.raises(lm.LMError, match="CPU kernel set 'NEON'"):
        lm.decompress(_with_meta(blob, kernels="NEON"))


def test_other_spec_refused(blob: bytes) -> None:
    with pytest.raises(lm.LMError, match="lstm.*transformer"):
        lm.decompress(blob, spec=TRANSFORMER)


def test_corrupt_header_refused(blob: bytes) -> None:
    assert isinstance(lm.LMError("x"), __import__("scalezip").error)
    bad = [
        b"",
        b"SZL",
        b"XXXX" + blob[4:],
        blob[:4] + b"\x09" + blob[5:],
        _with_meta(blob, spec={"family": "gru", "layers": 1, "width": 8, "context": 8, "seed": 0}),
        _with_meta(blob, streams=0),
        _with_meta(blob, lr="fast"),
        blob[:5] + b"\xff\xff" + blob[7:],
        blob[:20],
    ]
    for b in bad:
        with pytest.raises(lm.LMError):
            lm.decompress(b)


def test_truncated_trailing_and_forged_length_refused(blob: bytes) -> None:
    for cut in (1, 2, len(blob) // 3):
        with pytest.raises(lm.LMError, match="truncated"):
            lm.decompress(blob[:-cut])
    with pytest.raises(lm.LMError, match="trailing"):
        lm.decompress(blob + b"\0")
    off, _ = coding.read_header(blob)["payload"]
    forged = bytearray(blob)
    struct.pack_into("<Q", forged, off - 20, 1 << 40)
    with pytest.raises(lm.LMError, match="cannot be coded"):
        lm.decompress(bytes(forged))
    with pytest.raises(lm.LMError, match="max_length"):
        lm.decompress(blob, max_length=len(TEXT) - 1)


def test_corrupt_payload_raises(blob: bytes) -> None:
    off, plen = coding.read_header(blob)["payload"]
    rng = np.random.default_rng(0)
    for pos in rng.choice(np.arange(off, off + plen), size=6, replace=False):
        damaged = bytearray(blob)
        damaged[pos] ^= 1 << int(rng.integers(8))
        with pytest.raises(lm.LMError, match="CRC-32"):
            lm.decompress(bytes(damaged))


def test_compress_argument_checks() -> None:
    with pytest.raises(TypeError):
        lm.compress(TEXT, "lstm-1x8")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        lm.compress(TEXT, LSTM, streams=0)
    with pytest.raises(ValueError):
        lm.compress(TEXT, LSTM, lr=2)  # type: ignore[arg-type]


# --- scaling ----------------------------------------------------------------


def test_power_law_fit_recovers_parameters() -> None:
    n = np.geomspace(1e4, 1e7, 7)
    fit = scaling.fit_power_law(n, 1.2 + 30.0 * n**-0.3)
    assert fit is not None
    assert fit["E"] == pytest.approx(1.2, abs=0.02)
    assert fit["alpha"] == pytest.approx(0.3, abs=0.02)
    assert scaling.fit_power_law([1, 2], [3, 4]) is None


def test_scaling_command_tiny(tmp_path: os.PathLike[str]) -> None:
    from scalezip.cli import main

    out = os.path.join(tmp_path, "res")
    argv = ["lm", "scaling", "--tiny", "--out", out, "--steps", "3", "--max-bytes", "16384"]
    argv += ["--sizes", "lstm-1x8,lstm-1x16,lstm-1x32,transformer-1x32", "-q"]
    argv += ["--test-bytes", "1024", "--online-bytes", "256", "--device", "cpu"]
    assert main(argv) == 0
    result = json.loads(pathlib.Path(out, "scaling.json").read_text())
    assert result["device"] == "cpu"
    names = {r["name"] for r in result["rows"]}
    assert {"zlib -9", "bz2 -9", "lzma -9e", "scalezip DEFLATE -9"} <= names
    neural = [r for r in result["rows"] if r["kind"] == "neural"]
    assert len(neural) == 4 and all(0 < r["bpb"] < 9 for r in neural)
    assert all(r["pretrained_total_bytes"] > r["model_bytes"] for r in neural)
    assert all(r["online_bytes"] == 256 and r["online_compressed_bytes"] > 0 for r in neural)
    assert "lstm" in result["fits"]
    assert pathlib.Path(out, "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pathlib.Path(out, "scaling.csv").read_text().startswith("kind,name,params")
    assert main(["lm", "scaling", "--sizes", "rnn-1x8", "--tiny", "--out", out]) == 2
    assert main(["lm", "nothing"]) == 2
