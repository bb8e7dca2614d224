//! Bindings of the raw Huffman codec (`scalezip.huffman`).
//!
//! Same pattern as the zlib bindings: borrow the input buffer, check the
//! arguments, release the GIL around the Rust work for inputs over 4 KiB,
//! and raise `scalezip._errors.HuffmanError` (looked up once) for bad data.
//! Compression on one thread codes into a workspace the thread keeps
//! between calls and copies the exact result out ([`WORKSPACE`]); larger
//! inputs code straight into the `bytes` object returned (sized for the
//! worst case, then trimmed); on several threads the blocks are coded apart
//! and copied into a result of the exact size. Decompression knows its output
//! size from the stream header, so it decodes straight into the new `bytes`
//! object.
use crate::buffer::ByteView;
use crate::bytes_out::BytesOut;
use crate::errors::huff_err;
use crate::gil::run;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::huff0::{self, Huff0Error, Options, Table};
use std::cell::RefCell;

/// Inputs of at most this many bytes, compressed on the calling thread
/// alone, are coded into its [`WORKSPACE`], which then holds up to
/// `compress_bound` of it (16.2 MiB) until the thread ends.
const WORKSPACE_MAX_INPUT: usize = 16 << 20;

thread_local! {
    /// Where this thread codes a serial compression before copying the
    /// exact result into the `bytes` it returns, sized (once, zeroed) for
    /// the largest input it has coded. A `bytes` object sized for the worst
    /// case is a fresh `mmap` on every call unless the allocator happens to
    /// keep that much free, and its page faults and kernel zeroing cost
    /// 10-20 % of the call; the workspace's pages stay mapped, and an
    /// exactly sized result is memory the allocator hands back call after
    /// call. The copy costs a few percent (`docs/huffman.md`).
    static WORKSPACE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Compress `data` (any C-contiguous buffer) into a scalezip Huffman
/// stream. `threads`: 0 = all cores, 1 = the calling thread only.
#[pyfunction]
#[pyo3(signature = (data, block_size=131072, threads=0, max_bits=11))]
fn huffman_compress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    block_size: usize,
    threads: usize,
    max_bits: u32,
) -> PyResult<Bound<'py, PyBytes>> {
    let opts = Options {
        block_size,
        max_bits,
        threads,
    };
    opts.validate().map_err(|e| huff_err(py, e))?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    if !opts.is_serial_for(s.len()) {
        // Blocks coded apart on the pool, then copied into a result of the
        // exact size (memory the allocator hands back call after call).
        let parts = run(py, s.len(), || huff0::compress_parts(s, &opts));
        let mut out = BytesOut::for_appending(py, parts.len())?;
        for b in parts.pieces() {
            out.append(b);
        }
        return out.finish(py, parts.len());
    }
    let bound = huff0::compress_bound(s.len(), block_size);
    if s.len() <= WORKSPACE_MAX_INPUT {
        let done = WORKSPACE.with(|cell| {
            // Not re-entered on one thread (no Python code runs inside);
            // if it ever were, the direct path below serves.
            let mut ws = cell.try_borrow_mut().ok()?;
            if ws.len() < bound {
                // One allocation of the bound, never grown while coding (a
                // doubling `Vec` would copy and zero as it went).
                *ws = Vec::new();
                ws.resize(bound, 0);
            }
            let buf = &mut *ws;
            let result = run(py, s.len(), || huff0::compress_to(s, &opts, buf))
                .map(|n| PyBytes::new(py, &buf[..n]))
                .map_err(|_| pyo3::exceptions::PyMemoryError::new_err(()));
            Some(result)
        });
        if let Some(result) = done {
            return result;
        }
    }
    // Coded straight into the `bytes` object returned (no copy).
    let mut out = BytesOut::new(py, bound)?;
    match run(py, s.len(), || huff0::compress_to(s, &opts, &mut out)) {
        Ok(n) => out.finish(py, n),
        // Only a failed resize of the object, which the bound avoids.
        Err(_) => Err(out
            .take_error()
            .unwrap_or_else(|| pyo3::exceptions::PyMemoryError::new_err(()))),
    }
}

/// Decompress a scalezip Huffman stream. `max_length` (None: no limit)
/// caps the output; the check happens before anything is allocated.
#[pyfunction]
#[pyo3(signature = (data, max_length=None, threads=0))]
fn huffman_decompress<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    max_length: Option<usize>,
    threads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let size = huff0::decompressed_len(s).map_err(|e| huff_err(py, e))?;
    let limit = max_length.unwrap_or(usize::MAX);
    if size > limit as u64 {
        return Err(huff_err(py, Huff0Error::OutputTooLarge { size, limit }));
    }
    let len = usize::try_from(size)
        .map_err(|_| huff_err(py, Huff0Error::OutputTooLarge { size, limit }))?;
    let mut result = Ok(());
    let bytes = PyBytes::new_with(py, len, |buf| {
        result = run(py, s.len().max(len), || {
            huff0::decompress_into(s, buf, threads)
        });
        Ok(())
    })?;
    result.map_err(|e| huff_err(py, e))?;
    Ok(bytes)
}

/// Byte counts of `data`, as a list of 256 ints (saturating at 2^32 - 1).
#[pyfunction]
#[pyo3(signature = (data, /))]
fn huffman_histogram(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    Ok(run(py, s.len(), || huff0::histogram(s).to_vec()))
}

fn histogram_arg(h: &[u32]) -> PyResult<[u32; 256]> {
    h.try_into()
        .map_err(|_| PyValueError::new_err("histogram must have exactly 256 counts"))
}

/// Code lengths (256 ints, 0 = no code) of the length-limited Huffman code
/// for `histogram`.
#[pyfunction]
#[pyo3(signature = (histogram, max_bits=11))]
fn huffman_code_lengths(py: Python<'_>, histogram: Vec<u32>, max_bits: u32) -> PyResult<Vec<u8>> {
    let t = Table::from_histogram(&histogram_arg(&histogram)?, max_bits)
        .map_err(|e| huff_err(py, e))?;
    Ok(t.lengths().to_vec())
}

fn table_arg(py: Python<'_>, lengths: &[u8]) -> PyResult<Table> {
    let lens: [u8; 256] = lengths
        .try_into()
        .map_err(|_| PyValueError::new_err("code lengths must have exactly 256 entries"))?;
    Table::from_lengths(&lens).map_err(|e| huff_err(py, e))
}

/// Code `data` with the table given by `lengths` as a bare block body (no
/// header, no length, no checksum: the caller stores those).
#[pyfunction]
#[pyo3(signature = (data, lengths))]
fn huffman_encode_block<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    lengths: Vec<u8>,
) -> PyResult<Bound<'py, PyBytes>> {
    let t = table_arg(py, &lengths)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    let out = run(py, s.len(), || huff0::encode_block_with(&t, s)).map_err(|e| huff_err(py, e))?;
    Ok(PyBytes::new(py, &out))
}

/// Decode a body made by `huffman_encode_block` with the same `lengths`
/// back into `size` bytes.
#[pyfunction]
#[pyo3(signature = (data, lengths, size))]
fn huffman_decode_block<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    lengths: Vec<u8>,
    size: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let t = table_arg(py, &lengths)?;
    let v = ByteView::new(data)?;
    let s = v.as_slice();
    // A body holds at least one bit per byte: refuse impossible sizes
    // before asking Python for the memory.
    if size as u64 > (s.len() as u64).saturating_sub(12) * 8 {
        return Err(huff_err(
            py,
            Huff0Error::CorruptStream {
                block: 0,
                stream: 0,
            },
        ));
    }
    let mut result = Ok(());
    let bytes = PyBytes::new_with(py, size, |buf| {
        result = run(py, s.len().max(size), || {
            huff0::decode_block_into(&t, s, buf)
        });
        Ok(())
    })?;
    result.map_err(|e| huff_err(py, e))?;
    Ok(bytes)
}

/// Add the Huffman functions to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(huffman_compress, m)?)?;
    m.add_function(wrap_pyfunction!(huffman_decompress, m)?)?;
    m.add_function(wrap_pyfunction!(huffman_histogram, m)?)?;
    m.add_function(wrap_pyfunction!(huffman_code_lengths, m)?)?;
    m.add_function(wrap_pyfunction!(huffman_encode_block, m)?)?;
    m.add_function(wrap_pyfunction!(huffman_decode_block, m)?)?;
    Ok(())
}
