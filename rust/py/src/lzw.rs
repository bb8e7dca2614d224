//! Bindings for the `.Z` (Unix `compress`) LZW codec in `scalezip_core::lzw`,
//! behind `python/scalezip/lzw.py`.
//!
//! Same pattern as the rest of `_native`: borrow the input buffer, release
//! the GIL around the Rust work when the input is big enough, convert errors
//! in one place (`errors::lzw_err`): argument errors become `ValueError`,
//! everything about bad data becomes `scalezip._errors.LzwError` (a subclass
//! of `scalezip.error`). Streaming objects are frozen pyclasses whose state
//! sits behind a `Mutex`, taken with the GIL released, as `Compressor` does.
use crate::buffer::ByteView;
use crate::bytes_out::BytesOut;
use crate::errors::lzw_err;
use crate::gil::{lock, output_limit, run, with_state};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::lzw::{self, LzwDecoder, LzwEncoder, LzwError, ParallelLzwEncoder};
use std::sync::Mutex;

/// Compress `data` into a `.Z` stream (block mode, as `compress -b max_bits`);
/// `threads` other than 1 (0: one per core) codes 4 MiB segments in
/// parallel, joined by CLEAR codes.
#[pyfunction]
#[pyo3(signature = (data, /, max_bits=16, threads=1))]
fn lzw_compress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    max_bits: u32,
    threads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let out = run(py, s.len(), || match threads {
        1 => lzw::compress(s, max_bits),
        t => lzw::compress_parallel(s, max_bits, t),
    })
    .map_err(|e| lzw_err(py, e))?;
    BytesOut::copy_of(py, &out)
}

/// The streaming encoder behind `LzwCompressor`: one stream, or segments
/// coded in parallel.
enum Encoder {
    Serial(LzwEncoder),
    Parallel(ParallelLzwEncoder),
}

impl Encoder {
    fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), LzwError> {
        match self {
            Encoder::Serial(e) => e.encode(input, out),
            Encoder::Parallel(e) => e.encode(input, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), LzwError> {
        match self {
            Encoder::Serial(e) => e.finish(out),
            Encoder::Parallel(e) => e.finish(out),
        }
    }

    fn is_finished(&self) -> bool {
        match self {
            Encoder::Serial(e) => e.is_finished(),
            Encoder::Parallel(e) => e.is_finished(),
        }
    }

    fn max_bits(&self) -> u32 {
        match self {
            Encoder::Serial(e) => e.max_bits(),
            Encoder::Parallel(e) => e.max_bits(),
        }
    }
}

/// Decompress a whole `.Z` stream; raises `LzwError` on corrupt or
/// truncated input.
#[pyfunction]
#[pyo3(signature = (data, /))]
fn lzw_decompress<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    // Decoded straight into the `bytes` object returned (no copy).
    let mut out = BytesOut::new(py, lzw::one_shot_capacity(s, usize::MAX))?;
    match run(py, s.len(), || lzw::decompress_to(s, &mut out, usize::MAX)) {
        Ok(n) => out.finish(py, n),
        Err(e) => Err(match out.take_error() {
            Some(alloc) => alloc,
            None => lzw_err(py, e),
        }),
    }
}

/// Streaming `.Z` compressor.
#[pyclass(module = "scalezip._native", frozen)]
struct LzwCompressor {
    inner: Mutex<Encoder>,
}

#[pymethods]
impl LzwCompressor {
    #[new]
    #[pyo3(signature = (max_bits=16, block_mode=true, threads=1))]
    fn new(py: Python<'_>, max_bits: u32, block_mode: bool, threads: usize) -> PyResult<Self> {
        if threads != 1 && !block_mode {
            return Err(PyValueError::new_err(
                "threads other than 1 needs block mode (segments are joined by CLEAR codes)",
            ));
        }
        let inner = match threads {
            1 => LzwEncoder::new(max_bits, block_mode).map(Encoder::Serial),
            t => ParallelLzwEncoder::new(max_bits, t).map(Encoder::Parallel),
        }
        .map_err(|e| lzw_err(py, e))?;
        Ok(LzwCompressor {
            inner: Mutex::new(inner),
        })
    }

    /// Compress `data`; return the output that is ready (the header first).
    #[pyo3(signature = (data, /))]
    fn compress<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let v = ByteView::new(data)?;
        let s = v.as_slice();
        let (out, ()) = with_state(py, &self.inner, s.len(), |c, out| c.encode(s, out))
            .map_err(|e| lzw_err(py, e))?;
        BytesOut::copy_of(py, &out)
    }

    /// Finish the stream: the last code and partial byte.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::new();
        lock(&self.inner)
            .finish(&mut out)
            .map_err(|e| lzw_err(py, e))?;
        BytesOut::copy_of(py, &out)
    }

    #[getter]
    fn finished(&self) -> bool {
        lock(&self.inner).is_finished()
    }

    #[getter]
    fn max_bits(&self) -> u32 {
        lock(&self.inner).max_bits()
    }
}

/// Streaming `.Z` decompressor of one stream.
#[pyclass(module = "scalezip._native", frozen)]
struct LzwDecompressor {
    inner: Mutex<LzwDecoder>,
}

#[pymethods]
impl LzwDecompressor {
    #[new]
    fn new() -> Self {
        LzwDecompressor {
            inner: Mutex::new(LzwDecoder::new()),
        }
    }

    /// Decode from `data`, producing at most `max_length` bytes (0: no
    /// limit). Returns `(output, consumed)`; input after `consumed` was not
    /// read because the output limit was reached.
    #[pyo3(signature = (data, max_length, /))]
    fn decompress<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        max_length: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, usize)> {
        let v = ByteView::new(data)?;
        let s = v.as_slice();
        let limit = output_limit(max_length);
        let (out, p) = with_state(py, &self.inner, s.len(), |d, out| d.decode(s, out, limit))
            .map_err(|e| lzw_err(py, e))?;
        Ok((BytesOut::copy_of(py, &out)?, p.consumed))
    }

    /// Raise `LzwError` if the input seen so far ends where no `compress`
    /// writer would end a stream (empty or cut header, inside a code, right
    /// after CLEAR).
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        lock(&self.inner).finish().map_err(|e| lzw_err(py, e))
    }

    /// True when the last call stopped at `max_length` with more output
    /// ready.
    #[getter]
    fn output_pending(&self) -> bool {
        lock(&self.inner).has_pending_output()
    }

    /// `max_bits` from the stream header, `None` until it has been read.
    #[getter]
    fn max_bits(&self) -> Option<u32> {
        lock(&self.inner).max_bits()
    }
}

/// Add the LZW functions and classes to `_native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lzw_compress, m)?)?;
    m.add_function(wrap_pyfunction!(lzw_decompress, m)?)?;
    m.add_class::<LzwCompressor>()?;
    m.add_class::<LzwDecompressor>()?;
    Ok(())
}
