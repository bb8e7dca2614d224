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

/// Allocations at least this big are advised to use huge pages by
/// [`advise_huge_pages_mapping`].
pub const HUGE_PAGE_MIN: usize = 4 << 20;

/// Advise the kernel to back the big heap allocation holding `[ptr, ptr +
/// len)` with transparent huge pages: 512x fewer page faults on first
/// touch. Smaller than [`HUGE_PAGE_MIN`]: nothing. Rounded *outwards* to
/// whole 4 KiB pages, to cover the allocation's whole mapping: malloc
/// serves a big allocation with its own mmap, starting in the page of its
/// header and ending at the page after its data. Advising only part of it
/// (as [`advise_huge_pages`] does, inwards) would split the mapping in two,
/// and `realloc` (mremap) cannot move a split mapping: growing would then
/// copy, into memory with no advice. Only an advice: errors (THP off, an
/// old kernel) change nothing but speed.
#[allow(unsafe_code)]
pub fn advise_huge_pages_mapping(ptr: *const u8, len: usize) {
    #[cfg(target_os = "linux")]
    if len >= HUGE_PAGE_MIN {
        let start = ptr as usize & !4095;
        let end = (ptr as usize + len + 4095) & !4095;
        // SAFETY: MADV_HUGEPAGE changes no contents or mapping, whatever
        // the range (pages of other allocations included); it only tells
        // the kernel how to back them.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

/// An empty `Vec` with room for `cap` bytes, advised to use huge pages
/// ([`advise_huge_pages_mapping`]) before anything is written: for big
/// outputs written once, front to back, which may still grow.
pub fn huge_vec_with_capacity(cap: usize) -> Vec<u8> {
    let v = Vec::with_capacity(cap);
    advise_huge_pages_mapping(v.as_ptr(), v.capacity());
    v
}
