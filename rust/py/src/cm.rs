//! Bindings of the context-mixing compressor (`scalezip.cm`).
//!
//! Same pattern as the Huffman bindings: borrow the input buffer, validate
//! the level (before the model is allocated), run the Rust work with the
//! GIL released (context mixing is slow per byte, so always, whatever the
//! size), and raise `scalezip._errors.CmError` for bad data. Decompression
//! knows its output size from the checked header and decodes straight into
//! the new `bytes` object.
//!
//! The streaming objects (`CmCompressor`, `CmDecompressor`, behind
//! `scalezip.cm.CMCompressor` / `CMDecompressor`) are frozen pyclasses
//! whose state sits behind a `Mutex`, as the LZW and zlib objects do; the
//! GIL is released around every call that codes data.
use crate::buffer::ByteView;
use crate::errors::cm_err;
use crate::gil::{lock, output_limit};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::cm::{self, CmDecoder, CmEncoder, CmError};
use std::sync::Mutex;

/// Compress `data` (any C-contiguous buffer) into a `SZCM` stream on
/// `threads` threads (0: one per core), segmented as
/// `cm::choose_segments` picks (`segment_size` None: automatic).
#[pyfunction]
#[pyo3(signature = (data, level=6, threads=1, segment_size=None))]
fn cm_compress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    level: i64,
    threads: usize,
    segment_size: Option<u64>,
) -> PyResult<Bound<'py, PyBytes>> {
    cm::check_level(level).map_err(|e| cm_err(py, e))?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let out = py
        .detach(|| cm::compress_with(s, level, segment_size, threads))
        .map_err(|e| cm_err(py, e))?;
    Ok(PyBytes::new(py, &out))
}

/// Decompress a `SZCM` stream; `max_length` (None: no limit) caps the
/// output, checked against the header before anything is allocated.
#[pyfunction]
#[pyo3(signature = (data, max_length=None, threads=1))]
fn cm_decompress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    max_length: Option<u64>,
    threads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let limit = max_length.unwrap_or(u64::MAX);
    let size = cm::decompressed_len(s, limit).map_err(|e| cm_err(py, e))?;
    let len = usize::try_from(size).map_err(|_| {
        cm_err(
            py,
            CmError::OutputTooLarge {
                size,
                limit: usize::MAX as u64,
            },
        )
    })?;
    let mut result = Ok(());
    let bytes = PyBytes::new_with(py, len, |buf| {
        result = py.detach(|| cm::decompress_into_with(s, buf, threads));
        Ok(())
    })?;
    result.map_err(|e| cm_err(py, e))?;
    Ok(bytes)
}

/// Memory (bytes) the model of `level` allocates, in either direction.
#[pyfunction]
#[pyo3(signature = (level, /))]
fn cm_model_bytes(py: Python<'_>, level: i64) -> PyResult<usize> {
    cm::model_bytes(level).map_err(|e| cm_err(py, e))
}

/// History (bytes) the streaming coders of `level` keep beside the model.
#[pyfunction]
#[pyo3(signature = (level, /))]
fn cm_window_bytes(py: Python<'_>, level: i64) -> PyResult<usize> {
    let level = cm::check_level(level).map_err(|e| cm_err(py, e))?;
    Ok(cm::model::Model::window_for_level(level))
}

/// Streaming `SZCM` compressor (format version 2).
#[pyclass(module = "scalezip._native", frozen)]
struct CmCompressor {
    inner: Mutex<CmEncoder>,
}

#[pymethods]
impl CmCompressor {
    #[new]
    #[pyo3(signature = (level=6, threads=1, segment_size=None, size_hint=None))]
    fn new(
        py: Python<'_>,
        level: i64,
        threads: usize,
        segment_size: Option<u64>,
        size_hint: Option<u64>,
    ) -> PyResult<Self> {
        let inner = cm::choose_segments(segment_size, threads, size_hint)
            .and_then(|sb| CmEncoder::with_segments(level, sb, threads))
            .map_err(|e| cm_err(py, e))?;
        Ok(CmCompressor {
            inner: Mutex::new(inner),
        })
    }

    /// Compress `data`; return the output that is ready (the header, then
    /// a frame per completed 1 MiB block).
    #[pyo3(signature = (data, /))]
    fn compress<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let v = ByteView::new(data)?;
        let s = v.as_slice();
        let mut out = Vec::new();
        py.detach(|| lock(&self.inner).compress(s, &mut out))
            .map_err(|e| cm_err(py, e))?;
        Ok(PyBytes::new(py, &out))
    }

    /// Finish the stream: the last frame and the trailer.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::new();
        py.detach(|| lock(&self.inner).finish(&mut out))
            .map_err(|e| cm_err(py, e))?;
        Ok(PyBytes::new(py, &out))
    }

    #[getter]
    fn finished(&self) -> bool {
        lock(&self.inner).is_finished()
    }

    #[getter]
    fn level(&self) -> u8 {
        lock(&self.inner).level()
    }
}

/// Streaming decompressor of one `SZCM` stream (version 1 or 2).
#[pyclass(module = "scalezip._native", frozen)]
struct CmDecompressor {
    inner: Mutex<CmDecoder>,
}

#[pymethods]
impl CmDecompressor {
    /// `threads`: segments of version 3 streams decoded in parallel (0:
    /// one per core; 1: one after another).
    #[new]
    #[pyo3(signature = (threads=1))]
    fn new(threads: usize) -> Self {
        CmDecompressor {
            inner: Mutex::new(CmDecoder::with_threads(threads)),
        }
    }

    /// Decode from `data`, producing at most `max_length` bytes (0: no
    /// limit). Returns `(output, consumed)`: input after `consumed` was not
    /// needed (the limit was reached, or the stream ended before it).
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
        let mut out = Vec::new();
        let used = py
            .detach(|| lock(&self.inner).decompress(s, limit, &mut out))
            .map_err(|e| cm_err(py, e))?;
        Ok((PyBytes::new(py, &out), used))
    }

    /// The input has ended: return what is left to decode (the end of a
    /// version 1 stream) and raise `CmError` if the stream is incomplete.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::new();
        py.detach(|| lock(&self.inner).finish(&mut out))
            .map_err(|e| cm_err(py, e))?;
        Ok(PyBytes::new(py, &out))
    }

    /// True once the whole stream is decoded and its CRC-32 checked.
    #[getter]
    fn eof(&self) -> bool {
        lock(&self.inner).is_eof()
    }

    /// True when output is ready without more input (a call stopped at
    /// `max_length`).
    #[getter]
    fn output_pending(&self) -> bool {
        lock(&self.inner).has_pending_output()
    }

    /// Format version of the stream, `None` until its header is read.
    #[getter]
    fn version(&self) -> Option<u8> {
        lock(&self.inner).version()
    }

    /// Level of the stream, `None` until its header is read.
    #[getter]
    fn level(&self) -> Option<u8> {
        lock(&self.inner).level()
    }
}

/// Add the context-mixing functions to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cm_window_bytes, m)?)?;
    m.add_class::<CmCompressor>()?;
    m.add_class::<CmDecompressor>()?;
    m.add_function(wrap_pyfunction!(cm_compress, m)?)?;
    m.add_function(wrap_pyfunction!(cm_decompress, m)?)?;
    m.add_function(wrap_pyfunction!(cm_model_bytes, m)?)?;
    m.add("CM_MIN_LEVEL", cm::MIN_LEVEL)?;
    m.add("CM_MAX_LEVEL", cm::MAX_LEVEL)?;
    m.add("CM_DEFAULT_LEVEL", cm::DEFAULT_LEVEL)?;
    m.add("CM_BLOCK_SIZE", cm::BLOCK_SIZE)?;
    m.add("CM_DEFAULT_SEGMENT_SIZE", cm::DEFAULT_SEGMENT_SIZE)?;
    Ok(())
}
