//! Borrowing Python buffers without copying.
//!
//! `zlib` accepts any object exporting a C-contiguous buffer (bytes,
//! bytearray, memoryview, array.array, numpy arrays of any dtype) and reads
//! it in place. We do the same: take the buffer, check contiguity the way
//! CPython does (same `BufferError` text), and view its bytes as `&[u8]` for
//! as long as the `PyUntypedBuffer` (which holds the export) lives.
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;

/// A read-only byte view of a Python buffer. The export is released on drop.
pub struct ByteView {
    buf: PyUntypedBuffer,
}

impl ByteView {
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let buf = PyUntypedBuffer::get(obj)?;
        if !buf.is_c_contiguous() {
            return Err(PyBufferError::new_err(
                "memoryview: underlying buffer is not C-contiguous",
            ));
        }
        Ok(ByteView { buf })
    }

    pub fn as_slice(&self) -> &[u8] {
        let len = self.buf.len_bytes();
        if len == 0 {
            return &[];
        }
        // SAFETY: the buffer is C-contiguous (checked in `new`), so its
        // `len_bytes()` bytes start at `buf_ptr()`; the export stays valid
        // while `self.buf` lives, which outlives the returned borrow. Like
        // CPython's zlib, we read the memory with the GIL released: another
        // thread resizing a bytearray is prevented by the export itself
        // (bytearray refuses to resize while exported); one writing into it
        // concurrently races exactly as it would with stdlib zlib.
        unsafe { std::slice::from_raw_parts(self.buf.buf_ptr() as *const u8, len) }
    }
}
