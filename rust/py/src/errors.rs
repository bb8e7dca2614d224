//! The one place where core errors become Python exceptions.
//!
//! The exception classes live in Python (`scalezip._errors`) so that
//! `scalezip.zlib.error` can subclass both `scalezip.error` and the stdlib's
//! `zlib.error` (code that catches either keeps working after the import
//! swap). We look each class up once and cache it.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use scalezip_core::cm::CmError;
use scalezip_core::huff0::Huff0Error;
use scalezip_core::lzw::LzwError;
use scalezip_core::tensor::TensorError;
use scalezip_core::{DeflateError, InflateError};

static ZLIB_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static LZW_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static HUFFMAN_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TENSOR_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CM_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// An instance of the exception class `scalezip._errors.<name>`, cached.
fn raise(py: Python<'_>, cell: &'static PyOnceLock<Py<PyType>>, name: &str, msg: String) -> PyErr {
    match cell.import(py, "scalezip._errors", name) {
        Ok(cls) => PyErr::from_type(cls.clone(), msg),
        Err(e) => e,
    }
}

fn zlib_error(py: Python<'_>, msg: String) -> PyErr {
    raise(py, &ZLIB_ERROR, "ZlibError", msg)
}

/// LZW: argument errors are `ValueError`, bad data `LzwError`.
pub fn lzw_err(py: Python<'_>, e: LzwError) -> PyErr {
    match e {
        LzwError::InvalidMaxBits { .. } | LzwError::Finished => {
            PyValueError::new_err(e.to_string())
        }
        other => raise(py, &LZW_ERROR, "LzwError", other.to_string()),
    }
}

/// Huffman: argument errors are `ValueError`, bad data `HuffmanError`.
pub fn huff_err(py: Python<'_>, e: Huff0Error) -> PyErr {
    if let Huff0Error::BadArgument(msg) = e {
        return PyValueError::new_err(msg);
    }
    raise(py, &HUFFMAN_ERROR, "HuffmanError", e.to_string())
}

/// Tensors: argument errors are `ValueError`, bad data `TensorError`.
pub fn tensor_err(py: Python<'_>, e: TensorError) -> PyErr {
    match e {
        TensorError::BadArgument(_)
        | TensorError::UnknownDtype(_)
        | TensorError::PartialElement { .. } => PyValueError::new_err(e.to_string()),
        other => raise(py, &TENSOR_ERROR, "TensorError", other.to_string()),
    }
}

/// Context mixing: a bad level is `ValueError`, bad data `CmError`.
pub fn cm_err(py: Python<'_>, e: CmError) -> PyErr {
    // Bad arguments (a segment size of 0 blocks comes only from a header).
    if matches!(e, CmError::BadLevel(_)) || matches!(e, CmError::BadSegmentSize(s) if s > 0) {
        return PyValueError::new_err(e.to_string());
    }
    raise(py, &CM_ERROR, "CmError", e.to_string())
}

/// zlib's return code for an inflate error, as CPython's messages print it.
fn inflate_code(e: &InflateError) -> i32 {
    match e {
        InflateError::Truncated | InflateError::OutputTooSmall { .. } => -5,
        InflateError::NeedDictionary { .. } => 2,
        _ => -3,
    }
}

/// `Error -3 while decompressing data: invalid block type`, CPython's shape.
pub fn inflate_err(py: Python<'_>, e: InflateError, while_: &str) -> PyErr {
    let code = inflate_code(&e);
    let msg = match e {
        // zlib sets no message for Z_NEED_DICT; CPython then prints none.
        InflateError::NeedDictionary { .. } => format!("Error {code} while {while_}"),
        // CPython reports a dictionary whose Adler-32 does not match while
        // setting it, with zlib's generic text for Z_DATA_ERROR.
        InflateError::IncorrectDictionary => {
            "Error -3 while setting zdict: invalid input data".to_string()
        }
        _ => format!("Error {code} while {while_}: {e}"),
    };
    zlib_error(py, msg)
}

pub fn deflate_err(py: Python<'_>, e: DeflateError) -> PyErr {
    match e {
        DeflateError::BadLevel(_) => zlib_error(py, "Bad compression level".to_string()),
        DeflateError::BadWindowBits(_) => PyValueError::new_err("Invalid initialization option"),
        other => zlib_error(py, other.to_string()),
    }
}
