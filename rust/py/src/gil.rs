//! The two helpers every binding uses around pure-Rust work.

use pyo3::prelude::*;
use std::sync::{Mutex, MutexGuard};

/// Inputs smaller than this are processed without releasing the GIL: the
/// release/reacquire round trip costs more than the work.
pub const GIL_RELEASE_THRESHOLD: usize = 4096;

/// Run `f` with the GIL released when `len` (the input size) makes it pay.
pub fn run<T: Send, F: Send + FnOnce() -> T>(py: Python<'_>, len: usize, f: F) -> T {
    if len >= GIL_RELEASE_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}

/// Lock a stream object's state. CPython's zlib serialises calls on one
/// object with a per-object lock; so do we. The lock is taken with the GIL
/// released (inside `run`) for big inputs, and never held while waiting for
/// the GIL, so the two locks cannot deadlock. A panic while locked (a bug)
/// poisons nothing we rely on: the state is plain data.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The body of every streaming method: lock `state` and run `f` on it with
/// the GIL released when `len` (the input size) makes it pay; `f` appends
/// its output to a fresh buffer, returned beside `f`'s own result.
pub fn with_state<S, T, E, F>(
    py: Python<'_>,
    state: &Mutex<S>,
    len: usize,
    f: F,
) -> Result<(Vec<u8>, T), E>
where
    S: Send,
    T: Send,
    E: Send,
    F: Send + FnOnce(&mut S, &mut Vec<u8>) -> Result<T, E>,
{
    with_state_cap(py, state, len, len / 2 + 64, f)
}

/// [`with_state`] with room for `cap` bytes of output reserved up front
/// (decoders expect more out than in). The room is advised to use huge
/// pages: fresh memory is faulted in on first touch, a page at a time, and
/// reserved room that is never written costs nothing.
pub fn with_state_cap<S, T, E, F>(
    py: Python<'_>,
    state: &Mutex<S>,
    len: usize,
    cap: usize,
    f: F,
) -> Result<(Vec<u8>, T), E>
where
    S: Send,
    T: Send,
    E: Send,
    F: Send + FnOnce(&mut S, &mut Vec<u8>) -> Result<T, E>,
{
    run(py, len, || {
        let mut out = scalezip_core::mem::huge_vec_with_capacity(cap);
        let t = f(&mut lock(state), &mut out)?;
        Ok((out, t))
    })
}

/// Python's `max_length` convention: 0 means no limit.
pub fn output_limit(max_length: usize) -> usize {
    if max_length == 0 {
        usize::MAX
    } else {
        max_length
    }
}
