//! Bindings of the quantization kernels (`scalezip.quant`).
//!
//! The Python layer (numpy or torch CPU tensors) hands over the weight's
//! own memory through the buffer protocol, a preallocated output array to
//! write the integers into, and the layout `[outer, channels, inner]`
//! (see `scalezip_core::quant`). Nothing is copied but the scales, which
//! come back as `bytes` of float32 (one per channel or group). The GIL is
//! released around the kernels for inputs over 4 KiB, and the kernels
//! themselves run on rayon's pool for big tensors.
use crate::buffer::{ByteView, ByteViewMut};
use crate::gil::run;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};
use scalezip_core::quant::{self, Dtype, Isa, Layout, QuantError, Scheme};

static QUANT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `scalezip._errors.QuantError` (a `ValueError`), looked up once.
fn quant_err(py: Python<'_>, e: QuantError) -> PyErr {
    match QUANT_ERROR.import(py, "scalezip._errors", "QuantError") {
        Ok(cls) => PyErr::from_type(cls.clone(), e.to_string()),
        Err(err) => err,
    }
}

fn dtype_from(name: &str) -> PyResult<Dtype> {
    Ok(match name {
        "float32" => Dtype::F32,
        "bfloat16" => Dtype::Bf16,
        "float16" => Dtype::F16,
        _ => {
            return Err(PyValueError::new_err(format!(
                "unsupported element type {name:?} (expected float32, bfloat16 or float16)"
            )))
        }
    })
}

fn isa(simd: bool) -> Isa {
    if simd {
        quant::simd::detected()
    } else {
        Isa::Generic
    }
}

fn f32s(py: Python<'_>, b: &[u8]) -> PyResult<Vec<f32>> {
    if b.len() % 4 != 0 {
        return Err(quant_err(
            py,
            QuantError::BufferSize {
                what: "scales",
                expected: b.len() / 4 * 4,
                got: b.len(),
            },
        ));
    }
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn to_bytes<'py>(py: Python<'py>, v: &[f32]) -> Bound<'py, PyBytes> {
    let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    PyBytes::new(py, &raw)
}

/// Quantize `src` (elements of `dtype`, as any C-contiguous buffer) into
/// the writable buffer `out`; return `(scales, zeros)` as float32 bytes
/// (`zeros` empty when symmetric).
#[pyfunction]
#[pyo3(signature = (src, dtype, outer, channels, inner, bits, symmetric, out, *, fp16_scales=false, threads=0, simd=true))]
#[allow(clippy::too_many_arguments)]
fn quant_quantize<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    dtype: &str,
    outer: usize,
    channels: usize,
    inner: usize,
    bits: u32,
    symmetric: bool,
    out: &Bound<'py, PyAny>,
    fp16_scales: bool,
    threads: usize,
    simd: bool,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let dt = dtype_from(dtype)?;
    let layout = Layout {
        outer,
        channels,
        inner,
    };
    let scheme = Scheme {
        bits,
        symmetric,
        fp16_scales,
    };
    let v = ByteView::new(src)?;
    let s = v.as_slice();
    let mut o = ByteViewMut::new(out)?;
    let q = o.as_mut_slice();
    let isa = isa(simd);
    let p = run(py, s.len(), || {
        quant::quantize_with(isa, s, dt, layout, scheme, q, threads)
    })
    .map_err(|e| quant_err(py, e))?;
    Ok((to_bytes(py, &p.scales), to_bytes(py, &p.zeros)))
}

/// Dequantize `q` with float32 `scales` (and `zeros` when asymmetric;
/// ignored when symmetric) into the writable buffer `out` of `dtype`.
#[pyfunction]
#[pyo3(signature = (q, scales, zeros, outer, channels, inner, bits, symmetric, dtype, out, *, threads=0, simd=true))]
#[allow(clippy::too_many_arguments)]
fn quant_dequantize(
    py: Python<'_>,
    q: &Bound<'_, PyAny>,
    scales: &Bound<'_, PyAny>,
    zeros: &Bound<'_, PyAny>,
    outer: usize,
    channels: usize,
    inner: usize,
    bits: u32,
    symmetric: bool,
    dtype: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
    simd: bool,
) -> PyResult<()> {
    let dt = dtype_from(dtype)?;
    let layout = Layout {
        outer,
        channels,
        inner,
    };
    let scheme = Scheme {
        bits,
        symmetric,
        fp16_scales: false,
    };
    let sc = f32s(py, ByteView::new(scales)?.as_slice())?;
    let zs = f32s(py, ByteView::new(zeros)?.as_slice())?;
    let v = ByteView::new(q)?;
    let qs = v.as_slice();
    let mut o = ByteViewMut::new(out)?;
    let dst = o.as_mut_slice();
    let isa = isa(simd);
    run(py, dst.len(), || {
        quant::dequantize_with(isa, qs, &sc, &zs, layout, scheme, dt, dst, threads)
    })
    .map_err(|e| quant_err(py, e))
}

/// Convert `src` (elements of `src_dtype`) into `out` (of `out_dtype`),
/// rounding to nearest even exactly as torch does.
#[pyfunction]
#[pyo3(signature = (src, src_dtype, out, out_dtype))]
fn quant_convert(
    py: Python<'_>,
    src: &Bound<'_, PyAny>,
    src_dtype: &str,
    out: &Bound<'_, PyAny>,
    out_dtype: &str,
) -> PyResult<()> {
    let (a, b) = (dtype_from(src_dtype)?, dtype_from(out_dtype)?);
    let v = ByteView::new(src)?;
    let s = v.as_slice();
    let mut o = ByteViewMut::new(out)?;
    let d = o.as_mut_slice();
    run(py, s.len(), || quant::convert(s, a, d, b)).map_err(|e| quant_err(py, e))
}

/// Whether the kernels run their AVX2 build on this machine.
#[pyfunction]
fn quant_simd_isa() -> &'static str {
    match quant::simd::detected() {
        Isa::Avx2 => "avx2",
        Isa::Generic => "generic",
    }
}

/// Add the quantization functions to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(quant_quantize, m)?)?;
    m.add_function(wrap_pyfunction!(quant_dequantize, m)?)?;
    m.add_function(wrap_pyfunction!(quant_convert, m)?)?;
    m.add_function(wrap_pyfunction!(quant_simd_isa, m)?)?;
    Ok(())
}
