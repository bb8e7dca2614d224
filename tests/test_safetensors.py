"""scalezip.safetensors: .safetensors -> .szt -> byte-identical .safetensors
(which the safetensors library loads), save_file/load_file/safe_open in the
safetensors library's shape, one-tensor random access, and damaged files
raising errors that name the tensor."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

szst = pytest.importorskip("scalezip.safetensors")
from scalezip import tensors  # noqa: E402


def checkpoint() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "emb.weight": (rng.standard_normal((300, 64)) * 0.02).astype(np.float32),
        "ln.bias": np.zeros(64, np.float32),
        "half": (rng.standard_normal((50, 40)) * 0.1).astype(np.float16),
        "ids": np.arange(512, dtype=np.int64),
        "mask": rng.integers(0, 2, 77).astype(bool),
        "q8": rng.integers(-128, 128, (9, 9), dtype=np.int8),
        "scalar": np.array(3.5, np.float64),
        "empty": np.zeros((0, 4), np.float32),
    }


def write_safetensors(
    path: Path,
    tensors_: dict[str, np.ndarray],
    header_pad: bytes = b"",
    metadata: dict[str, str] | None = None,
) -> None:
    """A .safetensors file written by hand (so that header bytes we choose,
    padding included, must survive)."""
    names = {np.dtype(k).name: v for k, v in tensors.DTYPES.items() if False}
    del names
    dt = {
        "float32": "F32",
        "float16": "F16",
        "int64": "I64",
        "bool": "BOOL",
        "int8": "I8",
        "float64": "F64",
        "uint8": "U8",
    }
    doc: dict[str, object] = {}
    if metadata:
        doc["__metadata__"] = metadata
    pos = 0
    for name in sorted(tensors_, reverse=True):  # data order differs from name order
        a = tensors_[name]
        doc[name] = {
            "dtype": dt[a.dtype.name],
            "shape": list(a.shape),
            "data_offsets": [pos, pos + a.nbytes],
        }
        pos += a.nbytes
    h = json.dumps(doc).encode() + header_pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name in sorted(tensors_, reverse=True):
            f.write(tensors_[name].tobytes())


def test_compress_file_round_trip_is_byte_identical(tmp_path: Path) -> None:
    src, szt, back = tmp_path / "m.safetensors", tmp_path / "m.szt", tmp_path / "b.safetensors"
    write_safetensors(src, checkpoint(), header_pad=b"   \t ", metadata={"format": "pt"})
    sizes = szst.compress_file(src, szt, chunk_elems=1024)
    assert {n for n, _, _ in sizes} == set(checkpoint())
    assert os.path.getsize(szt) < os.path.getsize(src)
    szst.decompress_file(szt, back)
    assert back.read_bytes() == src.read_bytes()
    # no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.safetensors", "m.safetensors", "m.szt"]


def test_files_written_by_the_safetensors_library(tmp_path: Path) -> None:
    st_numpy = pytest.importorskip("safetensors.numpy")
    ck = checkpoint()
    src = tmp_path / "lib.safetensors"
    st_numpy.save_file(ck, str(src), metadata={"a": "b"})
    szst.compress_file(src, tmp_path / "lib.szt")
    szst.decompress_file(tmp_path / "lib.szt", tmp_path / "back.safetensors")
    assert (tmp_path / "back.safetensors").read_bytes() == src.read_bytes()
    loaded = st_numpy.load_file(str(tmp_path / "back.safetensors"))
    for k, v in ck.items():
        assert loaded[k].tobytes() == v.tobytes() and loaded[k].shape == v.shape
    # and our reader gives the same tensors straight from the .szt
    ours = szst.load_file(tmp_path / "lib.szt", framework="np")
    for k, v in ck.items():
        assert ours[k].dtype == v.dtype and ours[k].tobytes() == v.tobytes()
    with szst.safe_open(tmp_path / "lib.szt", framework="np") as f:
        assert f.metadata() == {"a": "b"}


def test_torch_checkpoint_bf16(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    ck = {
        "w": torch.randn(200, 300).to(torch.bfloat16),
        "b": torch.randn(300).half(),
        "step": torch.tensor(7),
    }
    src = tmp_path / "t.safetensors"
    st_torch.save_file(ck, str(src))
    szst.compress_file(src, tmp_path / "t.szt")
    szst.decompress_file(tmp_path / "t.szt", tmp_path / "t2.safetensors")
    assert (tmp_path / "t2.safetensors").read_bytes() == src.read_bytes()
    back = szst.load_file(tmp_path / "t.szt")
    for k, v in ck.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v)


def test_save_load_safe_open(tmp_path: Path) -> None:
    ck = checkpoint()
    path = tmp_path / "c.szt"
    szst.save_file(ck, path, metadata={"k": "v"}, chunk_elems=1024)
    loaded = szst.load_file(path)  # numpy in, numpy out
    assert list(loaded) == list(ck)
    for k, v in ck.items():
        assert loaded[k].dtype == v.dtype and loaded[k].tobytes() == v.tobytes()
    with szst.safe_open(path, framework="np") as f:
        assert f.keys() == list(ck)
        assert f.metadata() == {"k": "v"}
        assert f.get_tensor("ids").tobytes() == ck["ids"].tobytes()
        with pytest.raises(KeyError):
            f.get_tensor("nope")
    # a save_file output decompresses to a valid safetensors file
    szst.decompress_file(path, tmp_path / "c.safetensors")
    st_numpy = pytest.importorskip("safetensors.numpy")
    again = st_numpy.load_file(str(tmp_path / "c.safetensors"))
    assert all(again[k].tobytes() == v.tobytes() for k, v in ck.items())


def test_get_tensor_reads_only_that_tensor(tmp_path: Path) -> None:
    ck = checkpoint()
    path = tmp_path / "c.szt"
    szst.save_file(ck, path)
    # Destroy the bytes of every tensor but "ids": it still decodes, by
    # random access, and the damaged ones raise naming themselves.
    with tensors.SztReader(str(path)) as r:
        index = dict(zip([t.name for t in r.tensors], r.index(), strict=True))
    data = bytearray(path.read_bytes())
    for name, (off, ln) in index.items():
        if name != "ids" and ln > 8:
            data[off + 8 : off + ln] = bytes(ln - 8)
    path.write_bytes(bytes(data))
    with szst.safe_open(path, framework="np") as f:
        assert f.get_tensor("ids").tobytes() == ck["ids"].tobytes()
        with pytest.raises(tensors.error, match="tensor 'emb.weight'.*chunk 0"):
            f.get_tensor("emb.weight")


def test_damaged_files_raise(tmp_path: Path) -> None:
    src, szt = tmp_path / "m.safetensors", tmp_path / "m.szt"
    write_safetensors(src, checkpoint())
    szst.compress_file(src, szt, chunk_elems=1024)
    good = szt.read_bytes()
    for pos in range(0, len(good), max(1, len(good) // 150)):
        bad = bytearray(good)
        bad[pos] ^= 0x10
        szt.write_bytes(bytes(bad))
        out = tmp_path / "out.safetensors"
        try:
            szst.decompress_file(szt, out)
        except tensors.error:
            assert not out.exists()
            continue
        # Only a flip that changes no decoded bit (the zero padding at the
        # end of a Huffman stream) may pass, and then the output is exact.
        assert out.read_bytes() == src.read_bytes(), pos
        out.unlink()
    for cut in (0, 10, len(good) // 2, len(good) - 1):
        szt.write_bytes(good[:cut])
        with pytest.raises(tensors.error):
            szst.load_file(szt)


def test_invalid_safetensors_inputs(tmp_path: Path) -> None:
    p = tmp_path / "x.safetensors"
    p.write_bytes(b"abc")
    with pytest.raises(tensors.error, match="not a safetensors"):
        szst.compress_file(p, tmp_path / "x.szt")
    h = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}).encode()
    p.write_bytes(struct.pack("<Q", len(h)) + h + bytes(12))
    with pytest.raises(tensors.error, match="holes"):
        szst.compress_file(p, tmp_path / "x.szt")
    h = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    p.write_bytes(struct.pack("<Q", len(h)) + h + bytes(9))
    with pytest.raises(tensors.error, match="describes 8"):
        szst.compress_file(p, tmp_path / "x.szt")
    assert not (tmp_path / "x.szt").exists()


def test_large_tensor_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pieces smaller than the tensor: the piece-wise writer and the streaming
    # reader must agree with the one-shot path.
    monkeypatch.setattr(szst, "PIECE_BYTES", 4096 * 4 * 3)
    rng = np.random.default_rng(1)
    ck = {"big": (rng.standard_normal(4096 * 10 + 17) * 0.02).astype(np.float32)}
    src = tmp_path / "big.safetensors"
    write_safetensors(src, ck)
    szst.compress_file(src, tmp_path / "big.szt", chunk_elems=4096)
    szst.decompress_file(tmp_path / "big.szt", tmp_path / "big2.safetensors")
    assert (tmp_path / "big2.safetensors").read_bytes() == src.read_bytes()
    with tensors.SztReader(str(tmp_path / "big.szt")) as r:
        pieces = [p for _, it in r.iter_raw(piece_bytes=4096 * 4 * 2) for p in it]
    assert len(pieces) == 6
    assert b"".join(p.tobytes() for p in pieces) == ck["big"].tobytes()
