//! Bindings of the context-mixing compressor (`scalezip.cm`).
//!
//! Same pattern as the Huffman bindings: borrow the input buffer, validate
//! the level (before the model is allocated), run the Rust work with the
//! GIL released (context mixing is slow per byte, so always, whatever the
//! size), and raise `scalezip._errors.CmError` for bad data. Decompression
//! knows its output size from the checked header and decodes straight into
//! the new `bytes` object.
use crate::buffer::ByteView;
use crate::errors::cm_err;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::cm::{self, CmError};

/// Compress `data` (any C-contiguous buffer) into a `SZCM` stream.
#[pyfunction]
#[pyo3(signature = (data, level=6))]
fn cm_compress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    level: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    cm::check_level(level).map_err(|e| cm_err(py, e))?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let out = py
        .detach(|| cm::compress(s, level))
        .map_err(|e| cm_err(py, e))?;
    Ok(PyBytes::new(py, &out))
}

/// Decompress a `SZCM` stream; `max_length` (None: no limit) caps the
/// output, checked against the header before anything is allocated.
#[pyfunction]
#[pyo3(signature = (data, max_length=None))]
fn cm_decompress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    max_length: Option<u64>,
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
        result = py.detach(|| cm::decompress_into(s, buf));
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

/// Add the context-mixing functions to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cm_compress, m)?)?;
    m.add_function(wrap_pyfunction!(cm_decompress, m)?)?;
    m.add_function(wrap_pyfunction!(cm_model_bytes, m)?)?;
    m.add("CM_MIN_LEVEL", cm::MIN_LEVEL)?;
    m.add("CM_MAX_LEVEL", cm::MAX_LEVEL)?;
    m.add("CM_DEFAULT_LEVEL", cm::DEFAULT_LEVEL)?;
    Ok(())
}
