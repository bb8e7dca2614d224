//! One-shot DEFLATE decompression straight into the `bytes` object returned
//! (behind `zlib.decompress` and `gzip.decompress`).
//!
//! Decoding into a `Vec` and copying it into a new `bytes` costs a second
//! pass over fresh memory, and fresh memory is slow: every 4 KiB page is
//! faulted in and zeroed by the kernel on first touch. That made
//! `zlib.decompress` run at 0.6x the decoder's own speed on 90 MB outputs.
//! Here the `bytes` object is created first, uninitialised, and the decoder
//! writes into it:
//! - its size is [`container::one_shot_capacity`]: the gzip ISIZE, the
//!   caller's `bufsize`, or a guess, capped at a multiple of the input so a
//!   stream that only *claims* a huge size reserves nothing huge;
//! - big objects are advised to use transparent huge pages, so first touch
//!   faults in 2 MiB at a time (Linux; only an advice, silently refused
//!   where THP is off);
//! - the decoder only ever sees initialised memory: the object is zeroed a
//!   chunk (`bytes_out::ZERO_CHUNK`) ahead of the decoder, while that chunk is about to be
//!   written anyway and stays in cache;
//! - when it fills up it grows with `_PyBytes_Resize` (a `realloc`, which
//!   moves big blocks by remapping pages, not copying), and at the end it is
//!   trimmed the same way; an exact size hint means neither happens.
//!
//! The object is a [`BytesOut`] (`bytes_out.rs`).
use crate::buffer::ByteView;
use crate::bytes_out::BytesOut;
use crate::errors::inflate_err;
use crate::format_from;
use crate::gil::run;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::container;

/// One-shot decompression of one stream. Returns `(data, consumed)` where
/// `consumed` is the length of the stream within the input. `bufsize` is
/// the expected output size (a hint; see `container::one_shot_capacity`).
#[pyfunction]
#[pyo3(signature = (data, format, window_bits, bufsize, zdict=None))]
fn decompress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    format: u8,
    window_bits: i32,
    bufsize: usize,
    zdict: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyBytes>, usize)> {
    let fmt = format_from(format)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    if let Some(zdict) = zdict {
        // A preset dictionary takes the streaming decoder (rare): a Vec.
        let dict = ByteView::new(zdict)?;
        let d = dict.as_slice();
        let (out, used) = run(py, s.len(), || {
            container::decompress(s, fmt, window_bits, Some(d), bufsize)
        })
        .map_err(|e| inflate_err(py, e, "decompressing data"))?;
        return Ok((PyBytes::new(py, &out), used));
    }
    let mut out = BytesOut::new(py, container::one_shot_capacity(s, fmt, bufsize))?;
    match run(py, s.len(), || {
        container::decompress_to(s, fmt, window_bits, &mut out)
    }) {
        Ok((n, used)) => Ok((out.finish(py, n)?, used)),
        Err(e) => Err(match out.take_error() {
            Some(alloc) => alloc,
            None => inflate_err(py, e, "decompressing data"),
        }),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decompress, m)?)?;
    Ok(())
}
