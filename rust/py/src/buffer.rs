//! Borrowing Python buffers without copying.
//!
//! `zlib` accepts any object exporting a C-contiguous buffer (bytes,
//! bytearray, memoryview, array.array, numpy arrays of any dtype) and reads
//! it in place. We do the same, asking the exporter for a plain
//! `PyBUF_SIMPLE` buffer exactly as CPython's zlib does, so a non-contiguous
//! input is refused by the exporter itself with the very exception the
//! stdlib would show (`BufferError` from memoryview, `ValueError` from
//! numpy), and a contiguous one is viewed as `&[u8]` for as long as the
//! export is held.
use pyo3::ffi;
use pyo3::prelude::*;

/// A read-only byte view of a Python buffer; the export is released on drop.
pub struct ByteView {
    // Boxed so the address handed to the exporter stays put.
    raw: Box<ffi::Py_buffer>,
}

impl ByteView {
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut raw = Box::new(ffi::Py_buffer::new());
        // SAFETY: `obj` is a live object (we hold a Bound, so the GIL is held)
        // and `raw` points to writable storage for one Py_buffer.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut *raw, ffi::PyBUF_SIMPLE) };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        Ok(ByteView { raw })
    }

    pub fn as_slice(&self) -> &[u8] {
        let len = self.raw.len.max(0) as usize;
        if len == 0 || self.raw.buf.is_null() {
            return &[];
        }
        // SAFETY: a PyBUF_SIMPLE export is `len` contiguous bytes at `buf`,
        // valid until PyBuffer_Release (in Drop), which cannot run while this
        // borrow of `self` lives. Like CPython's zlib we read it with the GIL
        // released: the export itself stops a bytearray from being resized
        // meanwhile; a thread writing into it concurrently races exactly as
        // it would with the stdlib.
        unsafe { std::slice::from_raw_parts(self.raw.buf as *const u8, len) }
    }
}

impl Drop for ByteView {
    fn drop(&mut self) {
        // Views are created and dropped with the GIL held (they never cross
        // a `detach`; only the borrowed slice does), but attach to be sure.
        Python::attach(|_| {
            // SAFETY: `raw` was filled by a successful PyObject_GetBuffer and
            // is released exactly once, here.
            unsafe { ffi::PyBuffer_Release(&mut *self.raw) }
        });
    }
}

/// A writable byte view of a Python buffer (bytearray, writable memoryview,
/// numpy array), for decoding straight into the caller's memory.
pub struct ByteViewMut {
    raw: Box<ffi::Py_buffer>,
}

impl ByteViewMut {
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut raw = Box::new(ffi::Py_buffer::new());
        // SAFETY: as in `ByteView::new`; PyBUF_WRITABLE makes the exporter
        // refuse read-only memory (bytes) with its own TypeError/BufferError.
        let rc = unsafe {
            ffi::PyObject_GetBuffer(
                obj.as_ptr(),
                &mut *raw,
                ffi::PyBUF_SIMPLE | ffi::PyBUF_WRITABLE,
            )
        };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        Ok(ByteViewMut { raw })
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.raw.len.max(0) as usize;
        if len == 0 || self.raw.buf.is_null() {
            return &mut [];
        }
        // SAFETY: a writable PyBUF_SIMPLE export is `len` contiguous,
        // writable bytes at `buf`, valid until released in Drop; `&mut self`
        // makes this the only Rust view of it. Python code in another thread
        // touching the same memory meanwhile races as it would with
        // `readinto`.
        unsafe { std::slice::from_raw_parts_mut(self.raw.buf as *mut u8, len) }
    }
}

impl Drop for ByteViewMut {
    fn drop(&mut self) {
        Python::attach(|_| {
            // SAFETY: filled by a successful PyObject_GetBuffer; released once.
            unsafe { ffi::PyBuffer_Release(&mut *self.raw) }
        });
    }
}
