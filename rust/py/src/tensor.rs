//! Bindings of the tensor codecs (`scalezip.tensors`, `scalezip.safetensors`).
//!
//! The container (header, index, files) is Python; these functions do the
//! work on one tensor's bytes: borrow the input buffer (a numpy array's own
//! memory: zero copy), release the GIL, code the chunks in parallel, and for
//! decoding write straight into a caller-allocated writable buffer (the
//! output array), so no intermediate copy is made in either direction.
//! Errors: `ValueError` for bad arguments, `scalezip._errors.TensorError`
//! for bad data.
use crate::buffer::{ByteView, ByteViewMut};
use crate::bytes_out::BytesOut;
use crate::errors::tensor_err;
use crate::gil::run;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::inflate::OutputBuffer;
use scalezip_core::tensor::{self, DType, Method, Options, TensorError};

fn dtype_arg(py: Python<'_>, name: &str) -> PyResult<DType> {
    DType::from_name(name).map_err(|e| tensor_err(py, e))
}

/// Compress `data` (little-endian elements of `dtype`, any C-contiguous
/// buffer) into chunk frames. The result is `prefix + frames +
/// suffix(len(frames))` (each part optional), built in one `bytes`
/// object: a container's header and index go around the frames without
/// the caller joining (copying) them.
#[pyfunction]
#[pyo3(signature = (
    data, dtype, chunk_elems=131072, method="auto", threads=0, max_bits=11,
    prefix=None, suffix=None,
))]
// The Python signature's parameters, one each.
#[allow(clippy::too_many_arguments)]
fn tensor_encode<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    dtype: &str,
    chunk_elems: usize,
    method: &str,
    threads: usize,
    max_bits: u32,
    prefix: Option<&Bound<'py, PyAny>>,
    suffix: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let dtype = dtype_arg(py, dtype)?;
    let method = Method::from_name(method).ok_or_else(|| {
        tensor_err(
            py,
            TensorError::BadArgument(
                "method must be 'auto', 'split', 'bytes', 'joint', 'stored' or 'range'",
            ),
        )
    })?;
    let opts = Options {
        chunk_elems,
        method,
        max_bits,
        threads,
    };
    opts.validate().map_err(|e| tensor_err(py, e))?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let head = prefix.map(ByteView::new).transpose()?;
    let head = head.as_ref().map_or(&[][..], ByteView::as_slice);
    // The frames are coded straight into the result (huge pages where it
    // is big), at the prefix's end: no frame is built apart and copied,
    // and the only fresh memory touched is the result's.
    let max = tensor::max_encoded_len(s.len(), dtype, chunk_elems);
    let mut out = BytesOut::new(py, head.len() + max)?;
    out.zero_all();
    let buf = out.as_mut_slice();
    buf[..head.len()].copy_from_slice(head);
    let body = &mut buf[head.len()..];
    let size = run(py, s.len(), || tensor::encode_into(s, dtype, &opts, body))
        .map_err(|e| tensor_err(py, e))?;
    let tail = match suffix {
        Some(f) => Some(f.call1((size,))?),
        None => None,
    };
    let tail = tail.as_ref().map(ByteView::new).transpose()?;
    let tail = tail.as_ref().map_or(&[][..], ByteView::as_slice);
    let total = head.len() + size + tail.len();
    if total > out.as_mut_slice().len() {
        out.resize(total)?;
        out.zero_all();
    }
    out.as_mut_slice()[head.len() + size..total].copy_from_slice(tail);
    out.finish(py, total)
}

/// Decode `frames` (whole chunk frames) into the writable buffer `out`,
/// whose length says how many elements they hold. `first_chunk` numbers
/// the chunks in error messages.
#[pyfunction]
#[pyo3(signature = (frames, dtype, chunk_elems, out, first_chunk=0, threads=0))]
fn tensor_decode_into(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    dtype: &str,
    chunk_elems: usize,
    out: &Bound<'_, PyAny>,
    first_chunk: usize,
    threads: usize,
) -> PyResult<()> {
    let dtype = dtype_arg(py, dtype)?;
    let v = ByteView::new(frames)?;
    let mut o = ByteViewMut::new(out)?;
    let s = v.as_slice();
    let o = o.as_mut_slice();
    let len = s.len().max(o.len());
    run(py, len, || {
        tensor::decode_into(s, dtype, chunk_elems, o, first_chunk, threads)
    })
    .map_err(|e| tensor_err(py, e))
}

/// The entropy ideal in bytes of `data` (see `scalezip_core::tensor::
/// entropy_ideal`): order-0 exponent entropy per chunk plus raw other bits.
#[pyfunction]
#[pyo3(signature = (data, dtype, chunk_elems=131072))]
fn tensor_entropy_ideal(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    dtype: &str,
    chunk_elems: usize,
) -> PyResult<f64> {
    let dtype = dtype_arg(py, dtype)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    run(py, s.len(), || tensor::entropy_ideal(s, dtype, chunk_elems)).map_err(|e| tensor_err(py, e))
}

/// Add the tensor functions to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor_encode, m)?)?;
    m.add_function(wrap_pyfunction!(tensor_decode_into, m)?)?;
    m.add_function(wrap_pyfunction!(tensor_entropy_ideal, m)?)?;
    Ok(())
}
