"""`scalezip model compress|decompress|inspect|eval`, end to end.

The file commands run in-process through `scalezip.cli.main` on small
hand-made `.safetensors` files (no torch needed): bit-exact round trips over
several dtypes and special values, the inspect report and its JSON, refusal
to overwrite, clear errors for missing or wrong files, and no output (not
even a temporary file) after a corrupt input. Torch state dicts and `eval`
(on the tiny built-in model, seconds) need torch and are skipped without it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from conftest import AGAINST_STDLIB
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(AGAINST_STDLIB, reason="scalezip's own API")


def _cli(*args: str) -> int:
    from scalezip.cli import main

    return main(["model", *args])


def _bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (truncation is fine for test data)."""
    return (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def _tensors(seed: int = 0) -> dict[str, tuple[str, tuple[int, ...], bytes]]:
    rng = np.random.default_rng(seed)
    w32 = rng.normal(0, 0.02, (257, 129)).astype(np.float32)
    special = np.array(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-40, 3.4e38], dtype=np.float32
    )
    w32[0, : special.size] = special
    w32.view(np.uint32)[1, :3] = [0x7FC00001, 0xFFFFFFFF, 0x7F800001]  # NaN payloads
    w16 = rng.normal(0, 0.05, 5000).astype(np.float16)
    wbf = _bf16_bits(rng.normal(0, 0.02, (64, 300)))
    wbf[0, :4] = [0x7FC1, 0x8000, 0x0001, 0xFF80]  # NaN payload, -0, subnormal, -inf
    w8 = rng.integers(-128, 128, 70_001).astype(np.int8)
    return {
        "layer.weight": ("F32", w32.shape, w32.tobytes()),
        "layer.half": ("F16", w16.shape, w16.tobytes()),
        "layer.bf16": ("BF16", wbf.shape, wbf.tobytes()),
        "codes": ("I8", w8.shape, w8.tobytes()),
        "empty": ("F32", (0, 4), b""),
        "scalar": ("F32", (), np.float32(1.5).tobytes()),
    }


def _write_safetensors(path: str, tensors: dict[str, tuple[str, tuple[int, ...], bytes]]) -> bytes:
    """A .safetensors file written by hand, as the safetensors library lays
    it out (header JSON padded with spaces to 8 bytes, data in order)."""
    doc: dict[str, object] = {"__metadata__": {"format": "pt"}}
    pos = 0
    for name, (dt, shape, raw) in tensors.items():
        doc[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [pos, pos + len(raw)]}
        pos += len(raw)
    head = json.dumps(doc, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    blob = struct.pack("<Q", len(head)) + head + b"".join(r for _, _, r in tensors.values())
    with open(path, "wb") as f:
        f.write(blob)
    return blob


@pytest.fixture
def model_file(tmp_path):
    path = str(tmp_path / "m.safetensors")
    blob = _write_safetensors(path, _tensors())
    return path, blob


def test_round_trip_is_byte_identical(model_file, tmp_path, capsys):
    path, blob = model_file
    assert _cli("compress", path) == 0
    szt = str(tmp_path / "m.szt")
    assert _read(szt)[:4] == b"SZT0"
    os.chmod(path, 0o644)
    assert _cli("compress", path, "--force", "-q") == 0
    assert os.stat(szt).st_mode & 0o777 == 0o644  # the input's mode, not mkstemp's 0600
    assert os.path.getsize(szt) < len(blob)
    assert "m.safetensors -> " in capsys.readouterr().out
    out = str(tmp_path / "back.safetensors")
    assert _cli("decompress", szt, "-o", out, "-q") == 0
    assert _read(out) == blob
    # the default name is the original's, which exists: refused, untouched
    assert _cli("decompress", szt) == 1
    assert "already exists" in capsys.readouterr().err
    assert _read(path) == blob
    os.unlink(path)
    assert _cli("decompress", szt, "-q") == 0
    assert _read(path) == blob


@pytest.mark.parametrize("method", ["bytes", "stored", "range"])
def test_round_trip_other_methods(model_file, tmp_path, method):
    path, blob = model_file
    szt, out = str(tmp_path / "x.szt"), str(tmp_path / "x.safetensors")
    assert _cli("compress", path, "-o", szt, "--method", method, "--chunk-elems", "1024") == 0
    assert _cli("decompress", szt, "-o", out, "--threads", "1") == 0
    assert _read(out) == blob


def test_inspect_table_and_json(model_file, tmp_path, capsys):
    path, _ = model_file
    szt = str(tmp_path / "m.szt")
    assert _cli("compress", path, "-q") == 0
    assert _cli("inspect", szt, "--json") == 0
    rep = json.loads(capsys.readouterr().out)
    tensors = _tensors()
    assert [t["name"] for t in rep["tensors"]] == list(tensors)
    assert rep["verified"] is True and rep["source"] == "safetensors"
    assert rep["metadata"] == {"format": "pt"}
    for t in rep["tensors"]:
        dt, shape, raw = tensors[t["name"]]
        assert (t["dtype"], tuple(t["shape"]), t["original_bytes"]) == (dt, shape, len(raw))
        if raw:
            assert t["ratio"] == pytest.approx(t["compressed_bytes"] / len(raw))
            assert 0 < t["ideal_bytes"] <= len(raw) * 1.01
            assert t["ideal_ratio"] == pytest.approx(t["ideal_bytes"] / len(raw), rel=1e-3)
        if dt == "I8":
            assert t["exponent_entropy_bits"] is None
        elif len(raw) > 4:
            assert 0 < t["exponent_entropy_bits"] <= (5 if dt == "F16" else 8)
        elif raw:
            assert t["exponent_entropy_bits"] == 0  # one value
    w = next(t for t in rep["tensors"] if t["name"] == "layer.weight")
    assert w["compressed_bytes"] < 0.9 * w["original_bytes"]  # N(0, 0.02) float32 compresses
    tot = rep["total"]
    assert tot["tensors"] == len(tensors)
    assert tot["original_bytes"] == sum(len(r) for _, _, r in tensors.values())
    assert tot["compressed_bytes"] == sum(t["compressed_bytes"] for t in rep["tensors"])
    assert tot["file_bytes"] == os.path.getsize(szt) > tot["compressed_bytes"]
    assert tot["ideal_bytes"] == pytest.approx(sum(t["ideal_bytes"] for t in rep["tensors"]), abs=6)

    assert _cli("inspect", szt) == 0
    table = capsys.readouterr().out
    assert "exp bits" in table and "ideal" in table
    for name in tensors:
        assert name in table
    assert f"{tot['original_bytes']:,}" in table.splitlines()[-1]

    assert _cli("inspect", szt, "--fast", "--json") == 0
    fast = json.loads(capsys.readouterr().out)
    assert fast["verified"] is False and "ideal_bytes" not in fast["total"]
    assert [t["compressed_bytes"] for t in fast["tensors"]] == [
        t["compressed_bytes"] for t in rep["tensors"]
    ]


def test_refuses_to_overwrite_unless_forced(model_file, tmp_path, capsys):
    path, _ = model_file
    szt = tmp_path / "m.szt"
    szt.write_bytes(b"keep me")
    assert _cli("compress", path) == 1
    assert "already exists; use --force" in capsys.readouterr().err
    assert szt.read_bytes() == b"keep me"
    assert _cli("compress", path, "--force", "-q") == 0
    assert szt.read_bytes()[:4] == b"SZT0"
    assert _cli("decompress", str(szt), "-o", str(szt), "--force") == 1
    assert "would replace the input" in capsys.readouterr().err


def test_clear_errors(model_file, tmp_path, capsys):
    path, _ = model_file
    missing = str(tmp_path / "nope.safetensors")
    for cmd in ("compress", "decompress", "inspect"):
        assert _cli(cmd, missing) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"scalezip model {cmd}: ") and "no such file" in err
        assert err.count("\n") == 1
    assert _cli("decompress", path) == 1
    assert "not a .szt file" in capsys.readouterr().err
    assert _cli("inspect", path) == 1
    assert "compress it first" in capsys.readouterr().err
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    assert _cli("compress", str(junk)) == 1
    assert "not a safetensors file" in capsys.readouterr().err
    assert not (tmp_path / "junk.szt").exists()
    assert _cli("compress", path, "-q") == 0
    assert _cli("compress", str(tmp_path / "m.szt"), "-o", str(tmp_path / "again.szt")) == 1
    assert "already a .szt file" in capsys.readouterr().err


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _listing(d) -> set[str]:
    return set(os.listdir(d))


def test_corrupt_input_leaves_no_output(model_file, tmp_path, capsys):
    path, _ = model_file
    szt = tmp_path / "m.szt"
    assert _cli("compress", path, "-q") == 0
    good = szt.read_bytes()
    bad = bytearray(good)
    bad[len(good) // 2] ^= 0x40  # inside the first tensor's chunks
    szt.write_bytes(bytes(bad))
    before = _listing(tmp_path)
    out = tmp_path / "out.safetensors"
    assert _cli("decompress", str(szt), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert "tensor 'layer.weight'" in err and "chunk" in err
    assert _listing(tmp_path) == before  # no output, no temporary file
    assert _cli("inspect", str(szt)) == 1
    assert "layer.weight" in capsys.readouterr().err
    szt.write_bytes(good[:-30])  # truncated
    assert _cli("decompress", str(szt), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert "truncated" in err or "corrupt" in err
    assert _listing(tmp_path) == before


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_szt_never_gives_wrong_output(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("mut")
    src = str(d / "m.safetensors")
    small = {k: v for k, v in _tensors(1).items() if k != "codes"}
    blob = _write_safetensors(src, small)
    szt = d / "m.szt"
    assert _cli("compress", src, "-q", "--chunk-elems", "4096") == 0
    good = szt.read_bytes()
    bad = bytearray(good)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(good) - 1))
        bad[i] ^= data.draw(st.integers(1, 255))
    szt.write_bytes(bytes(bad))
    out = d / "out.safetensors"
    before = _listing(d)
    rc = _cli("decompress", str(szt), "-o", str(out), "-q")
    if rc == 0:
        assert out.read_bytes() == blob
    else:
        assert rc == 1 and _listing(d) == before


def test_model_help_without_torch():
    """The base package and `scalezip model --help` do not import torch;
    `eval` without torch names the pip extra."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import scalezip.cli, scalezip.model_cli\n"
        "from scalezip.cli import main\n"
        "try:\n    main(['model', '--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "sys.exit(main(['model', 'eval', '--model', 'tiny']))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert "compress" in p.stdout and "inspect" in p.stdout and "eval" in p.stdout
    assert "pip install 'scalezip[torch]'" in p.stderr


# ---------------------------------------------------------------------------
# torch: state dicts and eval


def test_torch_state_dict_round_trip(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    sd = {
        "w32": torch.randn(300, 70, generator=g),
        "w16": torch.randn(1000, generator=g).half(),
        "wbf": (torch.randn(64, 64, generator=g) * 0.02).bfloat16(),
        "i8": torch.randint(-128, 128, (4096,), generator=g, dtype=torch.int8),
        "strided": torch.randn(40, 30, generator=g).t(),
        "flag": torch.tensor([True, False, True]),
    }
    sd["wbf"][0, :3] = torch.tensor([float("nan"), -0.0, float("-inf")])
    src = str(tmp_path / "model.bin")
    torch.save(sd, src)
    assert _cli("compress", src, "-q") == 0
    szt = str(tmp_path / "model.szt")
    assert _cli("inspect", szt, "--json") == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["source"] == "torch" and len(rep["tensors"]) == len(sd)
    os.unlink(src)
    assert _cli("decompress", szt, "-q") == 0  # back to model.bin, the original suffix
    back = torch.load(src, weights_only=True)
    assert list(back) == list(sd)
    for k, v in sd.items():
        b = back[k]
        assert b.dtype == v.dtype and b.shape == v.shape
        assert b.contiguous().view(torch.uint8).equal(v.contiguous().view(torch.uint8))
    # -o with a .safetensors name writes a safetensors file of the same tensors
    st_torch = pytest.importorskip("safetensors.torch")
    out = str(tmp_path / "again.safetensors")
    assert _cli("decompress", szt, "-o", out, "-q") == 0
    loaded = st_torch.load_file(out)
    assert all(loaded[k].view(torch.uint8).equal(sd[k].contiguous().view(torch.uint8)) for k in sd)


def test_torch_refuses_nested_checkpoint(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    src = str(tmp_path / "ckpt.pt")
    torch.save({"model": {"w": torch.ones(3)}, "epoch": 3}, src)
    assert _cli("compress", src) == 1
    assert "flat state dict" in capsys.readouterr().err
    assert not (tmp_path / "ckpt.szt").exists()
    torch.save({"w": torch.ones(3, dtype=torch.complex64)}, src)
    assert _cli("compress", src) == 1
    assert "unsupported dtype torch.complex64" in capsys.readouterr().err
    torch.save({"w": torch.ones(3)}, src)
    assert _cli("compress", src, "--chunk-elems", "10") == 1
    assert "chunk_elems" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_parse_setting():
    pytest.importorskip("torch")
    from scalezip import model_cli
    from scalezip import model_report as mr

    assert model_cli._default_settings() == mr.DEFAULT_SETTINGS
    s = mr.parse_setting("int4-g32-sym")
    (q,) = s.steps
    assert (q.bits, q.group_size, q.symmetric, q.method) == (4, 32, True, "rtn")
    assert s.name == "int4 g32 sym RTN"
    (q,) = mr.parse_setting("int8").steps
    assert (q.bits, q.group_size, q.symmetric) == (8, None, True)
    s = mr.parse_setting("wanda2:4+int4-hqq-emb")
    assert [x.kind for x in s.steps] == ["prune", "quant"] and s.pruned and s.needs_calibration
    assert s.steps[0].sparsity == "2:4" and s.steps[1].embeddings
    assert mr.parse_setting("mag50").steps[0].sparsity == 0.5
    for bad in (
        "int3",
        "int8-g1",
        "int8-foo",
        "50",
        "mag100",
        "int8+mag50",
        "int8+int4",
        "",
        "5:4",
    ):
        with pytest.raises(ValueError):
            mr.parse_setting(bad)


def make_model():  # for --model test_model_cli:make_model
    import torch

    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 32))


def test_eval_tiny_end_to_end(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "r.json"
    settings_ = "int8,int4-g128,mag50,wanda2:4+int8"
    args = ["eval", "--model", "tiny", "--settings", settings_, "--json", str(out)]
    args += ["--repeat", "1", "--warmup", "0", "--threads", "1", "-q"]
    assert _cli(*args) == 0
    table = capsys.readouterr().out
    assert "| setting | bytes before | bytes after |" in table and "int4 g128 asym RTN" in table
    doc = json.loads(out.read_text())  # strict JSON: no Infinity
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~mask
    assert doc["model"] == "tiny" and doc["repeat"] == 1
    reps = {r["extra"]["spec"] or "float32": r for r in doc["reports"]}
    assert list(reps) == ["float32", *settings_.split(",")]
    base = reps["float32"]
    assert base["fidelity"]["mse"] == 0 and base["fidelity"]["sqnr_db"] is None
    for spec, r in reps.items():
        f = r["fidelity"]
        assert set(f) == {"mse", "rmse", "mae", "max_abs", "sqnr_db", "cosine_mean", "cosine_min"}
        assert r["bytes_before"] == base["bytes_after"]
        assert r["ratio"] == pytest.approx(r["bytes_before"] / r["bytes_after"])
        assert r["latency_s"] > 0
        assert f["rmse"] == pytest.approx(f["mse"] ** 0.5)
        assert f["max_abs"] >= f["mae"] and f["cosine_min"] <= f["cosine_mean"] <= 1 + 1e-9
        if spec != "float32":
            assert r["bytes_after"] < r["bytes_before"]
            assert f["mse"] > 0 and f["sqnr_db"] > 0
    assert reps["int8"]["fidelity"]["cosine_mean"] > 0.999
    assert reps["int8"]["ratio"] > 2.5  # Linear and embedding stay, Linear weights 4x smaller
    assert reps["int4-g128"]["fidelity"]["cosine_mean"] > 0.99
    assert reps["int4-g128"]["bytes_after"] < reps["int8"]["bytes_after"]
    assert reps["int8"]["fidelity"]["sqnr_db"] > reps["int4-g128"]["fidelity"]["sqnr_db"]
    assert 0.5 < reps["mag50"]["fidelity"]["cosine_mean"] < 0.9999
    assert reps["wanda2:4+int8"]["bytes_after"] < reps["mag50"]["bytes_after"]

    assert _cli(*args) == 1  # the JSON file exists now
    assert "already exists" in capsys.readouterr().err


def test_eval_factory_model_and_plot(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    png = tmp_path / "p.png"
    args = ["eval", "--model", "test_model_cli:make_model", "--settings", "int8,2:4"]
    args += ["--repeat", "1", "--warmup", "0", "--threads", "1", "-q", "--plot", str(png)]
    assert _cli(*args) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "magnitude 2:4" in capsys.readouterr().out
    assert _cli("eval", "--model", "no_such_module_xyz:f", "--settings", "int8") == 1
    assert "no_such_module_xyz" in capsys.readouterr().err
    assert _cli("eval", "--model", "tiny", "--settings", "int9") == 1
    assert "not a step" in capsys.readouterr().err


def test_compare_against_a_plain_reference():
    """scalezip.evaluate.compare against the formulas written out in numpy."""
    torch = pytest.importorskip("torch")
    from scalezip.evaluate import compare

    rng = np.random.default_rng(5)
    ref = rng.normal(size=(40, 24))
    out = ref + rng.normal(scale=0.1, size=ref.shape)
    f = compare(torch.from_numpy(ref).float(), torch.from_numpy(out).float())
    r, o = ref.astype(np.float32).astype(np.float64), out.astype(np.float32).astype(np.float64)
    e = o - r
    mse = (e**2).mean()
    cos = (r * o).sum(1) / np.linalg.norm(r, axis=1) / np.linalg.norm(o, axis=1)
    assert f.mse == pytest.approx(mse) and f.rmse == pytest.approx(mse**0.5)
    assert f.mae == pytest.approx(np.abs(e).mean()) and f.max_abs == pytest.approx(np.abs(e).max())
    assert f.sqnr_db == pytest.approx(10 * np.log10((r**2).mean() / mse))
    assert f.cosine_mean == pytest.approx(cos.mean()) and f.cosine_min == pytest.approx(cos.min())
    with pytest.raises(ValueError, match="shapes differ"):
        compare(torch.zeros(2, 3), torch.zeros(3, 2))
