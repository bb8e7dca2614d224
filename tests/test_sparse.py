"""scalezip.sparse: bitmap and CSR round trips, sizes, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scalezip import sparse


def sparse_array(shape, density, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dtype)
    a[rng.random(shape) > density] = 0
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.uint8, np.float64])
@pytest.mark.parametrize("density", [0.0, 0.1, 0.5, 1.0])
def test_round_trip_and_sizes(dtype, density):
    a = sparse_array((37, 53), density, dtype)
    nnz = int((a != 0).sum())
    b = sparse.pack(a)
    assert b.nbytes == (a.size + 7) // 8 + nnz * a.itemsize
    assert np.array_equal(sparse.unpack(b), a) and sparse.unpack(b).dtype == a.dtype
    c = sparse.pack(a, "csr")
    assert c.indices.dtype == np.uint8  # 53 columns fit a byte
    assert c.nbytes == 38 * 4 + nnz * (1 + a.itemsize)
    assert np.array_equal(sparse.unpack(c), a)


def test_bitmap_bit_order_documented():
    a = np.array([0, 3, 0, 0, 0, 0, 0, 0, 5], np.int8)
    b = sparse.pack(a)
    assert b.bitmap.tolist() == [0b10, 0b1]
    assert b.values.tolist() == [3, 5]


def test_wide_csr_index_type_and_nd_bitmap():
    a = sparse_array((3, 70000), 0.01)
    assert sparse.pack(a, "csr").indices.dtype == np.int32
    x = sparse_array((4, 5, 6), 0.3)
    assert np.array_equal(sparse.pack(x).unpack(), x)
    with pytest.raises(ValueError, match="2-D"):
        sparse.pack(x, "csr")
    with pytest.raises(ValueError, match="format"):
        sparse.pack(x, "coo")


def test_torch_tensors_round_trip():
    torch = pytest.importorskip("torch")
    t = torch.randn(8, 16)
    t[t.abs() < 0.5] = 0
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        x = t.to(dtype)
        for fmt in ("bitmap", "csr"):
            r = sparse.unpack(sparse.pack(x, fmt))
            assert isinstance(r, torch.Tensor) and r.dtype == dtype
            assert torch.equal(r, x)


def test_corrupt_inputs_raise():
    a = sparse_array((10, 12), 0.4)
    b = sparse.pack(a)
    bad = sparse.BitmapSparse(b.shape, b.bitmap, b.values[:-1])
    with pytest.raises(ValueError, match="nonzeros"):
        bad.unpack()
    with pytest.raises(ValueError, match="bitmap of"):
        sparse.BitmapSparse((100, 100), b.bitmap, b.values).unpack()
    c = sparse.pack(a, "csr")
    idx = c.indices.copy()
    idx[0] = 200
    with pytest.raises(ValueError, match="out of range"):
        sparse.CSRSparse(c.shape, c.indptr, idx, c.values).unpack()
    ptr = c.indptr.copy()
    ptr[3] = ptr[4] + 1
    with pytest.raises(ValueError, match="inconsistent"):
        sparse.CSRSparse(c.shape, ptr, c.indices, c.values).unpack()
    with pytest.raises(ValueError, match="inconsistent"):
        sparse.CSRSparse((11, 12), c.indptr, c.indices, c.values).unpack()


@settings(max_examples=80, deadline=None)
@given(
    a=hnp.arrays(
        st.sampled_from([np.float32, np.int8, np.int16]),
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=20),
        elements=st.integers(-3, 3),
    )
)
def test_hypothesis_round_trips(a):
    for fmt in ("bitmap", "csr"):
        assert np.array_equal(sparse.unpack(sparse.pack(a, fmt)), a)
