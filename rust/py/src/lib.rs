//! `scalezip._native`: the PyO3 bindings, and nothing else.
//!
//! Every entry point follows the same pattern (as safetensors and
//! pydantic-core do): extract all Python inputs first (buffers are borrowed,
//! not copied), then release the GIL around the pure-Rust work when the
//! input is big enough for that to pay, then build the Python result.
//! Errors are converted in one place (`errors.rs`). The Python layer
//! (`python/scalezip/zlib.py`, `gzip.py`) holds the user-facing API and maps
//! stdlib arguments (wbits forms, flush modes) onto these calls.
mod buffer;
mod bytes_out;
mod cm;
mod deflate;
mod entropy;
mod errors;
mod gil;
mod huff0;
mod lzw;
mod quant;
mod tensor;

use buffer::{ByteView, ByteViewMut};
use errors::{deflate_err, inflate_err};
use gil::{lock, output_limit, run, with_state, with_state_cap};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::container::{self, Format, GzipHeader};
use scalezip_core::deflate::{Flush, Strategy};
use scalezip_core::inflate::{Append, Appender, Progress};
use scalezip_core::InflateError;
use std::sync::Mutex;

fn format_from(code: u8) -> PyResult<Format> {
    Ok(match code {
        0 => Format::Raw,
        1 => Format::Zlib,
        2 => Format::Gzip,
        3 => Format::Auto,
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown container format code {code}"
            )))
        }
    })
}

fn strategy_from(code: i32) -> PyResult<Strategy> {
    Ok(match code {
        0 => Strategy::Default,
        1 => Strategy::Filtered,
        2 => Strategy::HuffmanOnly,
        3 => Strategy::Rle,
        4 => Strategy::Fixed,
        _ => return Err(PyValueError::new_err("Invalid initialization option")),
    })
}

/// zlib flush modes: Z_NO_FLUSH 0, Z_PARTIAL_FLUSH 1, Z_SYNC_FLUSH 2,
/// Z_FULL_FLUSH 3, Z_FINISH 4, Z_BLOCK 5. Partial and block flushes are
/// served as sync flushes: a superset that also byte-aligns the output.
fn flush_from(mode: i32) -> PyResult<Flush> {
    Ok(match mode {
        0 => Flush::None,
        1 | 2 | 5 => Flush::Sync,
        3 => Flush::Full,
        4 => Flush::Finish,
        _ => return Err(PyValueError::new_err(format!("invalid flush mode {mode}"))),
    })
}

/// CRC-32 of `data`, continuing from `value`.
#[pyfunction]
#[pyo3(signature = (data, value, /))]
fn crc32(py: Python<'_>, data: &Bound<'_, PyAny>, value: u32) -> PyResult<u32> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    Ok(run(py, s.len(), || {
        scalezip_core::checksum::crc32(value, s)
    }))
}

/// Adler-32 of `data`, continuing from `value`.
#[pyfunction]
#[pyo3(signature = (data, value, /))]
fn adler32(py: Python<'_>, data: &Bound<'_, PyAny>, value: u32) -> PyResult<u32> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    Ok(run(py, s.len(), || {
        scalezip_core::checksum::adler32(value, s)
    }))
}

/// The gzip header to write. `xfl` defaults to what Python's gzip module
/// writes for `level`; zlib's own rule differs slightly, so the Python layer
/// passes it explicitly when it stands in for zlib.
fn gzip_header(
    mtime: u32,
    filename: Option<Vec<u8>>,
    os: u8,
    xfl: Option<u8>,
    level: i32,
) -> GzipHeader {
    // -1: zlib's default level, 6.
    let mut h = GzipHeader::for_level(if level == -1 { 6 } else { level }, mtime);
    h.os = os;
    h.filename = filename;
    if let Some(x) = xfl {
        h.xfl = x;
    }
    h
}

/// One-shot compression: `format` 0 raw, 1 zlib, 2 gzip.
#[pyfunction]
#[pyo3(signature = (data, format, level, window_bits, mtime=0, os=255, xfl=None))]
#[allow(clippy::too_many_arguments)]
fn compress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    format: u8,
    level: i32,
    window_bits: i32,
    mtime: u32,
    os: u8,
    xfl: Option<u8>,
) -> PyResult<Bound<'py, PyBytes>> {
    let fmt = format_from(format)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let header = gzip_header(mtime, None, os, xfl, level);
    // Straight into the returned bytes: the output is held once (deflate.rs).
    deflate::compress_to_bytes(py, s, fmt, level, window_bits, &header)
}

/// Decompress one stream straight into the writable buffer `out`. Returns
/// `(written, consumed)`. No allocation and no copy of the output.
#[pyfunction]
#[pyo3(signature = (data, out, format, window_bits))]
fn decompress_into(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    format: u8,
    window_bits: i32,
) -> PyResult<(usize, usize)> {
    let fmt = format_from(format)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let mut o = ByteViewMut::new(out)?;
    let dst = o.as_mut_slice();
    run(py, s.len(), || {
        container::decompress_into(s, fmt, window_bits, dst)
    })
    .map_err(|e| inflate_err(py, e, "decompressing data"))
}

/// Streaming compressor (behind `zlib.compressobj` and `gzip.GzipFile`).
#[pyclass(module = "scalezip._native", frozen)]
struct Compressor {
    inner: Mutex<container::Compressor>,
}

#[pymethods]
impl Compressor {
    #[new]
    #[pyo3(signature = (format, level, window_bits, strategy=0, zdict=None, mtime=0, filename=None, os=255, xfl=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        format: u8,
        level: i32,
        window_bits: i32,
        strategy: i32,
        zdict: Option<&Bound<'_, PyAny>>,
        mtime: u32,
        filename: Option<Vec<u8>>,
        os: u8,
        xfl: Option<u8>,
    ) -> PyResult<Self> {
        let fmt = format_from(format)?;
        let dict = zdict.map(ByteView::new).transpose()?;
        let header = gzip_header(mtime, filename, os, xfl, level);
        let inner = container::Compressor::new(
            fmt,
            level,
            window_bits,
            strategy_from(strategy)?,
            dict.as_ref().map(ByteView::as_slice),
            Some(&header),
        )
        .map_err(|e| deflate_err(py, e))?;
        Ok(Compressor {
            inner: Mutex::new(inner),
        })
    }

    /// Compress `data`; return what is ready.
    #[pyo3(signature = (data, /))]
    fn compress<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let v = ByteView::new(data)?;
        self.step(py, v.as_slice(), Flush::None)
    }

    /// Compress `data` (may be empty) and apply the zlib flush `mode`.
    #[pyo3(signature = (data, mode, /))]
    fn flush<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        mode: i32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let v = ByteView::new(data)?;
        self.step(py, v.as_slice(), flush_from(mode)?)
    }

    #[getter]
    fn finished(&self) -> bool {
        lock(&self.inner).is_finished()
    }

    fn copy(&self) -> Self {
        Compressor {
            inner: Mutex::new(lock(&self.inner).clone()),
        }
    }
}

impl Compressor {
    fn step<'py>(&self, py: Python<'py>, s: &[u8], flush: Flush) -> PyResult<Bound<'py, PyBytes>> {
        let (out, ()) = with_state(py, &self.inner, s.len(), |c, out| c.compress(s, flush, out))
            .map_err(|e| deflate_err(py, e))?;
        bytes_out::BytesOut::copy_of(py, &out)
    }
}

/// Streaming multi-core compressor (behind `gzip.compress(threads=N)` and
/// `GzipFile(threads=N)`): one ordinary stream, blocks compressed in
/// parallel. `threads` 0 means one per core.
#[pyclass(module = "scalezip._native", frozen)]
struct ParallelCompressor {
    inner: Mutex<container::ParallelCompressor>,
}

#[pymethods]
impl ParallelCompressor {
    #[new]
    #[pyo3(signature = (format, level, threads, block_size, mtime=0, filename=None, os=255, xfl=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        format: u8,
        level: i32,
        threads: usize,
        block_size: usize,
        mtime: u32,
        filename: Option<Vec<u8>>,
        os: u8,
        xfl: Option<u8>,
    ) -> PyResult<Self> {
        let fmt = format_from(format)?;
        let header = gzip_header(mtime, filename, os, xfl, level);
        let inner =
            container::ParallelCompressor::new(fmt, level, threads, block_size, Some(&header))
                .map_err(|e| deflate_err(py, e))?;
        Ok(ParallelCompressor {
            inner: Mutex::new(inner),
        })
    }

    /// Take `data`; return whatever output is complete.
    #[pyo3(signature = (data, /))]
    fn compress<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let v = ByteView::new(data)?;
        let s = v.as_slice();
        let (out, ()) = with_state(py, &self.inner, s.len(), |c, out| c.compress(s, out))
            .map_err(|e| deflate_err(py, e))?;
        bytes_out::BytesOut::copy_of(py, &out)
    }

    /// End the stream; return the rest of the output (trailer included).
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        // Finishing compresses up to a whole batch of blocks: always release.
        let inner = &self.inner;
        let out = py
            .detach(|| {
                let mut out = Vec::new();
                lock(inner).finish(&mut out).map(|()| out)
            })
            .map_err(|e| deflate_err(py, e))?;
        bytes_out::BytesOut::copy_of(py, &out)
    }
}

impl Decompressor {
    /// Decode `s` (at most `limit` bytes out, about `cap` expected) into a
    /// new `bytes` object, returned with the decoder's result (the output
    /// holds what was decoded before an error). A big output is written
    /// straight into the object (no `Vec` to fault in and copy: half the
    /// fresh memory); a small one goes through a `Vec`, since the object's
    /// zeroing ahead of the writer (256 KiB) would cost more than the copy.
    fn decode_to_bytes<'py>(
        &self,
        py: Python<'py>,
        s: &[u8],
        cap: usize,
        limit: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Result<Progress, InflateError>)> {
        if cap < scalezip_core::mem::HUGE_PAGE_MIN {
            let Ok((out, r)) = with_state_cap(py, &self.inner, s.len(), cap, |d, out| {
                Ok::<_, std::convert::Infallible>(d.decompress(s, out, limit))
            });
            return Ok((bytes_out::BytesOut::copy_of(py, &out)?, r));
        }
        let mut out = bytes_out::BytesOut::new(py, cap)?;
        let inner = &self.inner;
        let (n, r) = run(py, s.len(), || {
            let mut a = Appender::new(&mut out);
            let r = lock(inner).decompress(s, &mut a, limit);
            (a.written(), r)
        });
        if r.is_err() {
            if let Some(alloc) = out.take_error() {
                return Err(alloc);
            }
        }
        Ok((out.finish(py, n)?, r))
    }
}

/// Streaming decompressor of one stream (behind `zlib.decompressobj`).
#[pyclass(module = "scalezip._native", frozen)]
struct Decompressor {
    inner: Mutex<container::Decompressor>,
}

#[pymethods]
impl Decompressor {
    #[new]
    #[pyo3(signature = (format, window_bits, zdict=None))]
    fn new(format: u8, window_bits: i32, zdict: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let fmt = format_from(format)?;
        let dict = zdict.map(ByteView::new).transpose()?;
        Ok(Decompressor {
            inner: Mutex::new(container::Decompressor::new(
                fmt,
                window_bits,
                dict.as_ref().map(ByteView::as_slice),
            )),
        })
    }

    /// Decode from `data`, producing at most `max_length` bytes (0: no
    /// limit). Returns `(output, consumed)`.
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
        // Room for a typical expansion (DEFLATE rarely passes 4:1 on real
        // data; more grows the buffer), never past the caller's limit.
        let cap = limit.min(s.len().saturating_mul(4) + 64 * 1024);
        let (out, r) = self.decode_to_bytes(py, s, cap, limit)?;
        let p = r.map_err(|e| inflate_err(py, e, "decompressing data"))?;
        Ok((out, p.consumed))
    }

    /// Decode all of `data` with no output limit, as `Decompress.flush()`
    /// does in CPython: a data error ends decoding but is not raised (CPython
    /// drops it there), and the output decoded before it is returned.
    #[pyo3(signature = (data, /))]
    fn flush<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyBytes>, usize)> {
        let v = ByteView::new(data)?;
        let s = v.as_slice();
        let cap = s.len().saturating_mul(4) + 64 * 1024;
        // On error, the output holds what was decoded before it.
        let (out, r) = self.decode_to_bytes(py, s, cap, usize::MAX)?;
        Ok((out, r.map_or(s.len(), |p| p.consumed)))
    }

    /// True once the end of the stream (trailer included) was reached.
    #[getter]
    fn eof(&self) -> bool {
        lock(&self.inner).is_done()
    }

    /// True while the stream header is still being read.
    #[getter]
    fn in_header(&self) -> bool {
        lock(&self.inner).in_header()
    }

    #[getter]
    fn mtime(&self) -> u32 {
        lock(&self.inner).gzip_header().mtime
    }

    #[getter]
    fn filename<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        lock(&self.inner)
            .gzip_header()
            .filename
            .as_deref()
            .map(|b| PyBytes::new(py, b))
    }

    #[getter]
    fn comment<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        lock(&self.inner)
            .gzip_header()
            .comment
            .as_deref()
            .map(|b| PyBytes::new(py, b))
    }

    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        lock(&self.inner)
            .gzip_header()
            .extra
            .as_deref()
            .map(|b| PyBytes::new(py, b))
    }

    #[getter]
    fn os(&self) -> u8 {
        lock(&self.inner).gzip_header().os
    }

    /// 0 raw, 1 zlib, 2 gzip, 3 not yet known (auto-detect before the first byte).
    #[getter]
    fn format(&self) -> u8 {
        match lock(&self.inner).format() {
            Format::Raw => 0,
            Format::Zlib => 1,
            Format::Gzip => 2,
            Format::Auto => 3,
        }
    }

    fn copy(&self) -> Self {
        Decompressor {
            inner: Mutex::new(lock(&self.inner).clone()),
        }
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(crc32, m)?)?;
    m.add_function(wrap_pyfunction!(adler32, m)?)?;
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    deflate::register(m)?;
    m.add_function(wrap_pyfunction!(decompress_into, m)?)?;
    m.add_class::<Compressor>()?;
    m.add_class::<Decompressor>()?;
    m.add_class::<ParallelCompressor>()?;
    huff0::register(m)?;
    lzw::register(m)?;
    tensor::register(m)?;
    entropy::register(m)?;
    cm::register(m)?;
    quant::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
