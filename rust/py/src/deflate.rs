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
//!
//! One-shot compression ([`compress_to_bytes`], behind `zlib.compress` and
//! `gzip.compress`) writes into the returned `bytes` too, for memory more
//! than speed: collected in a `Vec` and copied, the output was held twice
//! at the end, and the bit writer's doubling (zero-filled) growth could
//! touch up to twice the output in the `Vec` alone: 2.6-2.7x the output in
//! all on 64 MiB of Silesia, over issue #3's "input + 2x output + a few
//! MB". Here the object is created at [`container::compress_bound`]
//! (address space only: nothing is zeroed, and only the pages written are
//! ever touched), the encoder hands over its output segment by segment
//! ([`container::Compressor::compress_to`]: at most about 1 MiB held in
//! its own buffer), and the object is trimmed at the end. Peak: the output
//! once plus the encoder's fixed state (benches/memory.py,
//! tests/test_memory.py).
use crate::buffer::ByteView;
use crate::bytes_out::BytesOut;
use crate::errors::{deflate_err, inflate_err};
use crate::format_from;
use crate::gil::run;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::container::{self, Format, GzipHeader};
use scalezip_core::deflate::{Flush, Strategy};
use scalezip_core::DeflateError;

/// One-shot compression of `s` into a new `bytes` object (see the module
/// docs): `level` -1 or 0..=12, the gzip `header` used when `format` is
/// gzip.
pub(crate) fn compress_to_bytes<'py>(
    py: Python<'py>,
    s: &[u8],
    format: Format,
    level: i32,
    window_bits: i32,
    header: &GzipHeader,
) -> PyResult<Bound<'py, PyBytes>> {
    stream_into_bytes(py, s.len(), format, header, s.len(), |sink| {
        let mut c = container::Compressor::new(
            format,
            level,
            window_bits,
            Strategy::Default,
            None,
            Some(header),
        )?;
        c.compress_to(s, Flush::Finish, sink)
    })
}

/// One-shot multi-core compression (behind `gzip.compress(threads=N)`):
/// one ordinary stream, blocks of `block_size` compressed in parallel
/// (`threads` 0: one per core), written straight into the returned `bytes`
/// as the blocks complete, like [`compress_to_bytes`].
#[pyfunction]
#[pyo3(signature = (data, format, level, threads, block_size, mtime=0, os=255, xfl=None))]
#[allow(clippy::too_many_arguments)]
fn compress_parallel<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    format: u8,
    level: i32,
    threads: usize,
    block_size: usize,
    mtime: u32,
    os: u8,
    xfl: Option<u8>,
) -> PyResult<Bound<'py, PyBytes>> {
    let fmt = format_from(format)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let header = crate::gzip_header(mtime, None, os, xfl, level);
    let mut c = container::ParallelCompressor::new(fmt, level, threads, block_size, Some(&header))
        .map_err(|e| deflate_err(py, e))?;
    // Parallel blocks end with a 5-byte sync marker each: in the bound's
    // margin (5 bytes per 16 KiB) for blocks of 16 KiB and more. The GIL is
    // always released: the blocks run on other threads anyway.
    stream_into_bytes(py, s.len(), fmt, &header, usize::MAX, |sink| {
        c.compress_to(s, sink)?;
        c.finish_to(sink)
    })
}

/// The stream that `write` hands, piece by piece, to its sink, appended to
/// a new `bytes` object created at [`container::compress_bound`] for `n`
/// input bytes without zeroing and trimmed at the end (module docs); the
/// GIL is released while it runs when `release` says so ([`run`]).
fn stream_into_bytes<'py>(
    py: Python<'py>,
    n: usize,
    format: Format,
    header: &GzipHeader,
    release: usize,
    write: impl Send + FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), DeflateError>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut header_bytes = Vec::new();
    header.write(&mut header_bytes);
    let cap = container::compress_bound(n, format, header_bytes.len());
    let mut out = BytesOut::for_appending(py, cap)?;
    run(py, release, || write(&mut |b| out.append(b))).map_err(|e| deflate_err(py, e))?;
    if let Some(alloc) = out.take_error() {
        return Err(alloc);
    }
    let len = out.len();
    out.finish(py, len)
}

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
    m.add_function(wrap_pyfunction!(compress_parallel, m)?)?;
    Ok(())
}
