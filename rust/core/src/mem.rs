//! Memory helpers shared by the codecs.

/// Allocations at least this big are advised to use huge pages by
/// [`advise_huge_pages_mapping`].
pub const HUGE_PAGE_MIN: usize = 4 << 20;

/// Advise the kernel to back the big heap allocation holding `[ptr, ptr +
/// len)` with transparent huge pages (Linux, where THP is often enabled
/// only on request), before it is first touched (after that it is too
/// late). Two reasons to: fresh memory is faulted in a page at a time on
/// first touch, which in a virtual machine costs microseconds per 4 KiB
/// (512x fewer faults); and tables read at random (the CM model's)
/// otherwise miss the TLB on nearly every read, and a page walk (doubly so
/// in a virtual machine) costs as much as the cache miss itself. Smaller
/// than [`HUGE_PAGE_MIN`]: nothing. Rounded *outwards* to whole 4 KiB
/// pages, to cover the allocation's whole mapping: malloc serves a big
/// allocation with its own mmap, starting in the page of its header and
/// ending at the page after its data. Advising only the aligned part inside
/// would split the mapping in two, and `realloc` (mremap) cannot move a
/// split mapping: growing would then copy, into memory with no advice.
/// Only an advice: contents and results are the same whether or not the
/// kernel obliges (THP off, an old kernel).
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

/// An empty `Vec` with room for `cap` elements, advised to use huge pages
/// ([`advise_huge_pages_mapping`]) before anything is written: for big
/// outputs written once, front to back, which may still grow, and for big
/// tables.
pub fn huge_vec_with_capacity<T>(cap: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(cap);
    advise_huge_pages_mapping(v.as_ptr().cast(), v.capacity() * size_of::<T>());
    v
}

/// `N` copies of `v` in a fixed-size array on the heap (never built on the
/// stack first: the tables this makes are up to megabytes).
pub fn boxed_array<T: Clone, const N: usize>(v: T) -> Box<[T; N]> {
    match vec![v; N].into_boxed_slice().try_into() {
        Ok(b) => b,
        Err(_) => unreachable!("the vector has N entries"),
    }
}

/// Hint that the cache line holding `r` will be read soon, so that a table
/// read whose address is known a bit early overlaps other work instead of
/// stalling (the match finders' next hash bucket, the CM model's slots,
/// the LZW decoder's next entries). Purely advisory: no result depends on
/// it, so there is no separate fallback to test.
#[allow(unsafe_code)]
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and never changes memory; `r` is a
    // live reference, and SSE (which has the instruction) is part of the
    // x86-64 baseline.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}
