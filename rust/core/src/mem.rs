//! Memory helpers shared by the codecs.

/// Ask the kernel to back `v` with transparent huge pages (Linux, where
/// THP is often enabled only on request): the whole 2 MiB pages inside
/// `v`. Two reasons to: tables read at random (the CM model's) otherwise
/// miss the TLB on nearly every read, and a page walk (doubly so in a
/// virtual machine) costs as much as the cache miss itself; and fresh
/// memory is faulted in a page at a time on first touch, which in a
/// virtual machine costs microseconds per 4 KiB. Call it before the memory
/// is first touched (after that it is too late). Purely advisory: contents
/// and results are the same whether or not the kernel obliges.
#[allow(unsafe_code)]
pub fn advise_huge_pages<T>(v: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(v);
        let lo = start.next_multiple_of(HUGE);
        let hi = end / HUGE * HUGE;
        if hi > lo {
            // SAFETY: [lo, hi) lies inside the live allocation behind `v`,
            // which we borrow mutably, and is page-aligned; MADV_HUGEPAGE
            // only changes how the kernel backs those pages, never their
            // contents, and its failure (e.g. THP disabled) is harmless.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

/// An empty `Vec` with room for `cap` bytes, the room advised to use huge
/// pages ([`advise_huge_pages`]) before anything is written: for big
/// outputs that are written once, front to back.
pub fn huge_vec_with_capacity(cap: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(cap);
    advise_huge_pages(v.spare_capacity_mut());
    v
}
