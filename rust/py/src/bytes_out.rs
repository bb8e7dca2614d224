//! A `bytes` object built in place: created uninitialised at a capacity,
//! written (with the GIL released: nothing else can see it), then trimmed
//! with `_PyBytes_Resize`, so big results are never built apart and copied.
//! Used by DEFLATE decompression (`deflate.rs`, which explains the zeroing
//! ahead of the decoder) and one-shot compression (appended to, not zeroed),
//! LZW decompression (`lzw.rs`), tensor encoding
//! (`tensor.rs`) and raw Huffman compression (`huff0.rs`).
//!
//! `_PyBytes_Resize` is not in the stable ABI, which is why the extension is
//! built per Python version rather than as abi3 (docs/design.md).
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use scalezip_core::inflate::OutputBuffer;
use scalezip_core::InflateError;
use std::os::raw::c_int;

extern "C" {
    // CPython's resize of a bytes object that has a single reference
    // (ours, before it is returned): realloc of the object. Exported by
    // every CPython 3 and declared in cpython/bytesobject.h, outside the
    // limited API; pyo3-ffi keeps its own declaration private.
    fn _PyBytes_Resize(bytes: *mut *mut ffi::PyObject, newsize: ffi::Py_ssize_t) -> c_int;
}

/// How far ahead of the decoder the output is zeroed: small enough to stay
/// in L2 until the decoder writes it, big enough that the decoder's pause at
/// each chunk end (its careful loop over the last few hundred bytes) costs
/// nothing measurable.
const ZERO_CHUNK: usize = 256 * 1024;

/// Advise huge pages for a `bytes` object's data of `len` bytes (and
/// CPython's trailing NUL), as `mem::advise_huge_pages_mapping` says.
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    scalezip_core::mem::advise_huge_pages_mapping(ptr, len + 1);
}

/// A `bytes` object under construction, as an [`OutputBuffer`]. It holds
/// the only reference to the object until [`BytesOut::finish`] hands it
/// over, so writing into it (even with the GIL released) is invisible to
/// Python, as it is for C code that fills `PyBytes_FromStringAndSize(NULL,
/// n)`.
pub(crate) struct BytesOut {
    /// Owned reference; null only after a failed resize (then `error` is set).
    obj: *mut ffi::PyObject,
    /// The object's data and size.
    data: *mut u8,
    cap: usize,
    /// `data[..init]` has been written (zeroed at least): what the decoder sees.
    init: usize,
    /// The Python exception of a failed resize, raised instead of the
    /// decoder's error that it caused.
    error: Option<PyErr>,
}

// SAFETY: the object is private to this call (refcount 1, never shared), so
// moving the builder to the thread that runs with the GIL released is
// sound; every CPython call on it (resize, decref) attaches to the
// interpreter first.
unsafe impl Send for BytesOut {}

impl BytesOut {
    /// An uninitialised bytes object of `cap` bytes (at least 1 KiB, so it
    /// is never one of CPython's shared singletons), its first chunk zeroed
    /// for a writer that sees it as a slice ([`OutputBuffer`]).
    pub(crate) fn new(py: Python<'_>, cap: usize) -> PyResult<Self> {
        let mut b = BytesOut::for_appending(py, cap)?;
        b.zero_ahead();
        Ok(b)
    }

    /// [`BytesOut::new`] for a writer that only appends
    /// ([`BytesOut::append`]): nothing is zeroed ahead, so only the pages
    /// actually written are ever touched, and a capacity sized from a
    /// worst-case bound costs address space, not memory.
    pub(crate) fn for_appending(py: Python<'_>, cap: usize) -> PyResult<Self> {
        let cap = cap.max(1024);
        let size = ffi::Py_ssize_t::try_from(cap)
            .map_err(|_| pyo3::exceptions::PyMemoryError::new_err(()))?;
        // SAFETY: NULL contents ask CPython for an uninitialised object of
        // `size` bytes; we hold the GIL.
        let obj = unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null(), size) };
        if obj.is_null() {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: `obj` is a live bytes object.
        let data = unsafe { ffi::PyBytes_AsString(obj) }.cast::<u8>();
        advise_huge_pages(data, cap);
        Ok(BytesOut {
            obj,
            data,
            cap,
            init: 0,
            error: None,
        })
    }

    /// Append `src` after the bytes written so far (`data[..init]`), growing
    /// the object if its capacity was short. On a failed resize the object
    /// is gone, the exception is kept for [`BytesOut::take_error`] and
    /// nothing more is written.
    pub(crate) fn append(&mut self, src: &[u8]) {
        if self.obj.is_null() {
            return;
        }
        let end = self.init + src.len();
        if end > self.cap {
            let new_cap = end.max(self.cap.saturating_add(self.cap / 4));
            if let Err(e) = self.resize(new_cap) {
                self.error = Some(e);
                return;
            }
            advise_huge_pages(self.data, self.cap);
        }
        // SAFETY: `init + src.len() <= cap`: inside the object's data, which
        // only this builder can reach; `src` (a Rust slice) cannot overlap
        // the object.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.data.add(self.init), src.len()) };
        self.init = end;
    }

    /// The bytes appended so far.
    pub(crate) fn len(&self) -> usize {
        self.init
    }

    /// Zero the next chunk, making it visible to the decoder.
    pub(crate) fn zero_ahead(&mut self) {
        let n = ZERO_CHUNK.min(self.cap - self.init);
        // SAFETY: `init + n <= cap`: inside the object's data.
        unsafe { std::ptr::write_bytes(self.data.add(self.init), 0, n) };
        self.init += n;
    }

    /// Resize the object to `size` bytes (with the GIL). On failure the
    /// object is gone and the Python exception is returned.
    pub(crate) fn resize(&mut self, size: usize) -> PyResult<()> {
        Python::attach(|py| {
            let newsize = ffi::Py_ssize_t::try_from(size)
                .map_err(|_| pyo3::exceptions::PyMemoryError::new_err(()))?;
            // SAFETY: `obj` is a bytes object with one reference (ours);
            // on failure CPython frees it, nulls `obj` and sets an error.
            if unsafe { _PyBytes_Resize(&mut self.obj, newsize) } != 0 {
                self.obj = std::ptr::null_mut();
                return Err(PyErr::fetch(py));
            }
            // SAFETY: `obj` is again a live bytes object of `size` bytes.
            self.data = unsafe { ffi::PyBytes_AsString(self.obj) }.cast::<u8>();
            self.cap = size;
            self.init = self.init.min(size);
            Ok(())
        })
    }

    /// A `bytes` copy of `src`, in memory advised to use huge pages when
    /// it is big (so the copy faults in 2 MiB at a time): for results
    /// built in a `Vec` by code that cannot write into the object itself.
    pub(crate) fn copy_of<'py>(py: Python<'py>, src: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        if src.len() < scalezip_core::mem::HUGE_PAGE_MIN {
            return Ok(PyBytes::new(py, src));
        }
        let mut b = BytesOut::new(py, src.len())?;
        // SAFETY: `data` has room for `cap >= src.len()` bytes, and `src`
        // (a Rust slice) cannot overlap the object we just created.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), b.data, src.len()) };
        b.init = b.init.max(src.len());
        b.finish(py, src.len())
    }

    /// The Python exception of a failed resize during decoding, if any:
    /// raised instead of the decoder's error that it caused.
    pub(crate) fn take_error(&mut self) -> Option<PyErr> {
        self.error.take()
    }

    /// Zero the whole object, so that [`OutputBuffer::as_mut_slice`] gives
    /// all of it (for writers that fill a buffer of fixed size).
    pub(crate) fn zero_all(&mut self) {
        // SAFETY: `init <= cap`: inside the object's data.
        unsafe { std::ptr::write_bytes(self.data.add(self.init), 0, self.cap - self.init) };
        self.init = self.cap;
    }

    /// The finished object: the first `n` bytes.
    pub(crate) fn finish(mut self, py: Python<'_>, n: usize) -> PyResult<Bound<'_, PyBytes>> {
        if n != self.cap {
            self.resize(n)?;
        }
        let obj = std::mem::replace(&mut self.obj, std::ptr::null_mut());
        // SAFETY: `obj` is an owned reference to a bytes object, handed over.
        Ok(unsafe { Bound::from_owned_ptr(py, obj).cast_into_unchecked::<PyBytes>() })
    }
}

impl Drop for BytesOut {
    fn drop(&mut self) {
        if !self.obj.is_null() {
            let obj = self.obj;
            // SAFETY: an owned reference never handed over: release it.
            Python::attach(|_| unsafe { ffi::Py_DECREF(obj) });
        }
    }
}

impl OutputBuffer for BytesOut {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `data[..init]` is initialised memory of the object, which
        // only this builder can reach; `&mut self` makes this the only view.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.init) }
    }

    fn grow(&mut self, _keep: usize) -> Result<(), InflateError> {
        if self.init == self.cap {
            let new_cap = self.cap.saturating_add(self.cap.max(64 * 1024));
            if let Err(e) = self.resize(new_cap) {
                self.error = Some(e);
                return Err(InflateError::OutputTooSmall { capacity: self.cap });
            }
            advise_huge_pages(self.data, self.cap);
        }
        self.zero_ahead();
        Ok(())
    }
}
