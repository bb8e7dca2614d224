//! Bindings of the entropy coders (`scalezip.entropy`).
//!
//! Arrays arrive as C-contiguous buffers of a known dtype (the Python layer
//! converts with `numpy.ascontiguousarray` and passes the shape), are read
//! in place, and every table is checked before anything is coded: a bad
//! row is a `ValueError` naming the row, never a panic. Results go back as
//! `bytes` that the Python layer views as numpy arrays without copying.
//! The batch functions release the GIL for inputs over 4 KiB; the
//! step-by-step classes keep their coder behind a mutex.
use crate::buffer::ByteView;
use crate::gil::{lock, run};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::rangecoder::{
    quantize_probs, table_bits, BinaryDecoder, BinaryEncoder, RangeCoderError, RangeDecoder,
    RangeEncoder,
};
use std::sync::Mutex;

fn value_err(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}

/// The native-endian `u32`s of a buffer of `n` of them.
fn u32s(view: &ByteView, n: usize, what: &str) -> PyResult<Vec<u32>> {
    let s = view.as_slice();
    if s.len() != n.saturating_mul(4) {
        return Err(value_err(format!("{what}: expected {n} uint32 values")));
    }
    Ok(s.chunks_exact(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn shape_check(len: usize, n: usize, k: usize, width: usize, what: &str) -> PyResult<()> {
    let want = n
        .checked_mul(k)
        .and_then(|x| x.checked_mul(width))
        .ok_or_else(|| value_err(format!("{what}: shape ({n}, {k}) too large")))?;
    if len != want || k == 0 {
        return Err(value_err(format!(
            "{what}: buffer of {len} bytes does not hold a ({n}, {k}) array"
        )));
    }
    Ok(())
}

/// Check every row of `freqs` (n rows of k) sums to the same power of two
/// `<= 2^16`; return its log2.
fn rows_bits(freqs: &[u32], k: usize) -> Result<u32, String> {
    let mut bits = None;
    for (i, row) in freqs.chunks_exact(k).enumerate() {
        let b = table_bits(row).map_err(|e| format!("row {i}: {e}"))?;
        match bits {
            None => bits = Some(b),
            Some(b0) if b0 != b => {
                return Err(format!(
                    "row {i}: sums to 2**{b} but row 0 sums to 2**{b0}; every row must have the same total"
                ))
            }
            _ => {}
        }
    }
    Ok(bits.unwrap_or(0))
}

/// Batch range coding: `freqs` is an (n, k) uint32 array (native order),
/// `symbols` an (n,) int64 array.
#[pyfunction]
#[pyo3(signature = (freqs, symbols, n, k))]
fn entropy_range_encode<'py>(
    py: Python<'py>,
    freqs: &Bound<'py, PyAny>,
    symbols: &Bound<'py, PyAny>,
    n: usize,
    k: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let fv = ByteView::new(freqs)?;
    let sv = ByteView::new(symbols)?;
    shape_check(fv.as_slice().len(), n, k, 4, "freqs")?;
    if sv.as_slice().len() != n.saturating_mul(8) {
        return Err(value_err(format!("symbols: expected {n} int64 values")));
    }
    let (fs, ss) = (fv.as_slice(), sv.as_slice());
    let out = run(py, fs.len(), || -> Result<Vec<u8>, String> {
        let f = fs
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<u32>>();
        let bits = rows_bits(&f, k)?;
        let mut e = RangeEncoder::new();
        for (i, (row, c)) in f.chunks_exact(k).zip(ss.chunks_exact(8)).enumerate() {
            let sym = i64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            let s = usize::try_from(sym)
                .ok()
                .filter(|&s| s < k)
                .ok_or_else(|| format!("row {i}: symbol {sym} outside 0..{k}"))?;
            if row[s] == 0 {
                return Err(format!("row {i}: symbol {s} has frequency 0"));
            }
            let cum: u32 = row[..s].iter().sum();
            e.encode(cum, row[s], bits)
                .map_err(|e| format!("row {i}: {e}"))?;
        }
        Ok(e.finish())
    })
    .map_err(value_err)?;
    Ok(PyBytes::new(py, &out))
}

/// Find the symbol of `row` whose interval holds `t` (a valid row: `t` is
/// below its sum).
fn find(row: &[u32], t: u32) -> (usize, u32) {
    let mut cum = 0u32;
    for (i, &f) in row.iter().enumerate() {
        if t < cum + f {
            return (i, cum);
        }
        cum += f;
    }
    (row.len() - 1, cum - row[row.len() - 1])
}

/// Batch range decoding of `n` symbols; returns their int64 values
/// (native order) as bytes.
#[pyfunction]
#[pyo3(signature = (data, freqs, n, k))]
fn entropy_range_decode<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    freqs: &Bound<'py, PyAny>,
    n: usize,
    k: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let dv = ByteView::new(data)?;
    let fv = ByteView::new(freqs)?;
    shape_check(fv.as_slice().len(), n, k, 4, "freqs")?;
    let (ds, fs) = (dv.as_slice(), fv.as_slice());
    let out = run(py, fs.len(), || -> Result<Vec<u8>, String> {
        let f = fs
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<u32>>();
        let bits = rows_bits(&f, k)?;
        let mut d = RangeDecoder::new(ds);
        let mut out = Vec::with_capacity(n * 8);
        for (i, row) in f.chunks_exact(k).enumerate() {
            let (s, cum) = find(row, d.target(bits));
            d.consume(cum, row[s], bits)
                .map_err(|e| format!("row {i}: {e}"))?;
            out.extend_from_slice(&(s as i64).to_ne_bytes());
        }
        Ok(out)
    })
    .map_err(value_err)?;
    Ok(PyBytes::new(py, &out))
}

/// Binary arithmetic coding of `bits` (uint8, 0 or 1) with `p1` (uint16,
/// P(1) * 4096 in 1..=4095), both of length `n`.
#[pyfunction]
#[pyo3(signature = (bits, p1, n))]
fn entropy_binary_encode<'py>(
    py: Python<'py>,
    bits: &Bound<'py, PyAny>,
    p1: &Bound<'py, PyAny>,
    n: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let bv = ByteView::new(bits)?;
    let pv = ByteView::new(p1)?;
    let (bs, ps) = (bv.as_slice(), pv.as_slice());
    if bs.len() != n || ps.len() != n.saturating_mul(2) {
        return Err(value_err(format!("bits and p1 must both have {n} entries")));
    }
    let out = run(py, bs.len(), || -> Result<Vec<u8>, String> {
        let mut e = BinaryEncoder::with_capacity(n / 8 + 8);
        for (i, (&b, c)) in bs.iter().zip(ps.chunks_exact(2)).enumerate() {
            let p = u16::from_ne_bytes([c[0], c[1]]);
            if !(1..=4095).contains(&p) {
                return Err(format!("p1[{i}] = {p} outside 1..4095"));
            }
            if b > 1 {
                return Err(format!("bits[{i}] = {b} is not 0 or 1"));
            }
            e.encode(b == 1, p);
        }
        Ok(e.finish())
    })
    .map_err(value_err)?;
    Ok(PyBytes::new(py, &out))
}

/// Decode `n` bits coded with `p1`; returns them as bytes of 0/1.
#[pyfunction]
#[pyo3(signature = (data, p1, n))]
fn entropy_binary_decode<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    p1: &Bound<'py, PyAny>,
    n: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let dv = ByteView::new(data)?;
    let pv = ByteView::new(p1)?;
    let (ds, ps) = (dv.as_slice(), pv.as_slice());
    if ps.len() != n.saturating_mul(2) {
        return Err(value_err(format!("p1 must have {n} entries")));
    }
    let out = run(py, ps.len(), || -> Result<Vec<u8>, String> {
        let mut d = BinaryDecoder::new(ds);
        let mut out = Vec::with_capacity(n);
        for (i, c) in ps.chunks_exact(2).enumerate() {
            let p = u16::from_ne_bytes([c[0], c[1]]);
            if !(1..=4095).contains(&p) {
                return Err(format!("p1[{i}] = {p} outside 1..4095"));
            }
            out.push(u8::from(d.decode(p)));
        }
        Ok(out)
    })
    .map_err(value_err)?;
    Ok(PyBytes::new(py, &out))
}

/// Quantize an (n, k) float64 array (native order) of probabilities into
/// uint32 frequencies, each row summing to `2**total_bits`.
#[pyfunction]
#[pyo3(signature = (probs, n, k, total_bits))]
fn entropy_quantize_probs<'py>(
    py: Python<'py>,
    probs: &Bound<'py, PyAny>,
    n: usize,
    k: usize,
    total_bits: u32,
) -> PyResult<Bound<'py, PyBytes>> {
    let pv = ByteView::new(probs)?;
    let ps = pv.as_slice();
    shape_check(ps.len(), n, k, 8, "probs")?;
    let out = run(py, ps.len(), || -> Result<Vec<u8>, RangeCoderError> {
        let mut row = vec![0f64; k];
        let mut f = vec![0u32; k];
        let mut out = Vec::with_capacity(n * k * 4);
        for chunk in ps.chunks_exact(8 * k) {
            for (x, c) in row.iter_mut().zip(chunk.chunks_exact(8)) {
                *x = f64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            }
            quantize_probs(&row, total_bits, &mut f)?;
            for x in &f {
                out.extend_from_slice(&x.to_ne_bytes());
            }
        }
        Ok(out)
    })
    .map_err(|e| value_err(e.to_string()))?;
    Ok(PyBytes::new(py, &out))
}

/// Step-by-step range encoder (for online-learning models).
#[pyclass(module = "scalezip._native", frozen)]
struct EntropyRangeEncoder {
    inner: Mutex<Option<RangeEncoder>>,
}

#[pymethods]
impl EntropyRangeEncoder {
    #[new]
    fn new() -> Self {
        EntropyRangeEncoder {
            inner: Mutex::new(Some(RangeEncoder::new())),
        }
    }

    /// Code `symbol` under the frequency row `freqs` (k uint32, native order).
    #[pyo3(signature = (freqs, k, symbol))]
    fn encode(&self, freqs: &Bound<'_, PyAny>, k: usize, symbol: i64) -> PyResult<()> {
        let fv = ByteView::new(freqs)?;
        let f = u32s(&fv, k, "freqs")?;
        let s = usize::try_from(symbol)
            .ok()
            .filter(|&s| s < k)
            .ok_or_else(|| value_err(format!("symbol {symbol} outside 0..{k}")))?;
        if f[s] == 0 {
            return Err(value_err(format!("symbol {s} has frequency 0")));
        }
        let mut g = lock(&self.inner);
        let e = g
            .as_mut()
            .ok_or_else(|| value_err("encoder already finished".to_string()))?;
        e.encode_symbol(&f, s).map_err(|e| value_err(e.to_string()))
    }

    /// End the stream and return it; the encoder cannot be used after.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let e = lock(&self.inner)
            .take()
            .ok_or_else(|| value_err("encoder already finished".to_string()))?;
        Ok(PyBytes::new(py, &e.finish()))
    }
}

/// Step-by-step range decoder; holds its own copy of the stream.
#[pyclass(module = "scalezip._native", frozen)]
struct EntropyRangeDecoder {
    inner: Mutex<RangeDecoder<Vec<u8>>>,
}

#[pymethods]
impl EntropyRangeDecoder {
    #[new]
    fn new(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let v = ByteView::new(data)?;
        Ok(EntropyRangeDecoder {
            inner: Mutex::new(RangeDecoder::new(v.as_slice().to_vec())),
        })
    }

    /// Decode the next symbol under `freqs` (k uint32, native order).
    #[pyo3(signature = (freqs, k))]
    fn decode(&self, freqs: &Bound<'_, PyAny>, k: usize) -> PyResult<usize> {
        let fv = ByteView::new(freqs)?;
        let f = u32s(&fv, k, "freqs")?;
        if k == 0 {
            return Err(value_err("freqs must not be empty".to_string()));
        }
        let bits = table_bits(&f).map_err(|e| value_err(e.to_string()))?;
        let mut d = lock(&self.inner);
        let (s, cum) = find(&f, d.target(bits));
        d.consume(cum, f[s], bits)
            .map_err(|e| value_err(e.to_string()))?;
        Ok(s)
    }
}

/// Add the entropy-coder functions and classes to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(entropy_range_encode, m)?)?;
    m.add_function(wrap_pyfunction!(entropy_range_decode, m)?)?;
    m.add_function(wrap_pyfunction!(entropy_binary_encode, m)?)?;
    m.add_function(wrap_pyfunction!(entropy_binary_decode, m)?)?;
    m.add_function(wrap_pyfunction!(entropy_quantize_probs, m)?)?;
    m.add_class::<EntropyRangeEncoder>()?;
    m.add_class::<EntropyRangeDecoder>()?;
    Ok(())
}
