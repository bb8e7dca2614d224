"""Malformed input: every class of broken stream fails like the stdlib.

Part 1 builds one stream per failure class by hand, at the bit level where
needed (deflate is LSB-first with MSB-first Huffman codes), and requires the
implementation to raise the stdlib's exception *with the stdlib's message*
(for zlib: "Error -3 while decompressing data: <reason>"), from both
zlib.decompress and Decompress.decompress:

  invalid block type (BTYPE=3), invalid stored block lengths, too many
  length or distance symbols, invalid code lengths set, invalid bit length
  repeat, invalid literal/lengths set, invalid distances set, missing
  end-of-block, invalid literal/length code, invalid distance code, invalid
  distance too far back, zlib header (check bits, method, window size, need
  dictionary), adler32 mismatch, gzip-in-zlib header/flags/header-CRC/CRC/
  length errors, truncation.

Part 2 is differential fuzzing with hypothesis: valid zlib/gzip/raw streams
of varied data are mutated (bit flips, byte overwrites, truncations,
insertions, deletions) and the implementation must agree with the stdlib:
identical bytes where the stdlib succeeds, the same error kind where it
fails, never any other exception; the same for gzip.decompress, and for a
Decompress object driven with small max_length values (which must not hang).
"""

from __future__ import annotations

import struct
import time

import pytest
from conftest import STD_GZIP, STD_ZLIB, error_kind, seeded_bytes, text_bytes

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# ---------------------------------------------------------------------------
# A tiny deflate bit writer
# ---------------------------------------------------------------------------


class BitWriter:
    def __init__(self):
        self.bits: list[int] = []

    def put(self, value: int, n: int) -> BitWriter:
        """n bits of value, least significant first (header fields, extra bits)."""
        self.bits.extend((value >> i) & 1 for i in range(n))
        return self

    def code(self, code: int, n: int) -> BitWriter:
        """A Huffman code of n bits, most significant bit first."""
        self.bits.extend((code >> (n - 1 - i)) & 1 for i in range(n))
        return self

    def align(self) -> BitWriter:
        while len(self.bits) % 8:
            self.bits.append(0)
        return self

    def raw(self, data: bytes) -> BitWriter:
        self.align()
        for byte in data:
            self.put(byte, 8)
        return self

    def getvalue(self) -> bytes:
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


def fixed_litlen(sym: int) -> tuple[int, int]:
    """(code, length) of a literal/length symbol in the fixed Huffman code."""
    if sym <= 143:
        return 0x30 + sym, 8
    if sym <= 255:
        return 0x190 + sym - 144, 9
    if sym <= 279:
        return sym - 256, 7
    return 0xC0 + sym - 280, 8


def fixed_block(symbols, final=True) -> BitWriter:
    """A fixed-Huffman block; symbols are ('lit', byte) | ('sym', litlen_symbol, extra, nbits) | ('dist', code)."""
    w = BitWriter().put(int(final), 1).put(1, 2)
    for item in symbols:
        if item[0] == "lit":
            w.code(*fixed_litlen(item[1]))
        elif item[0] == "sym":
            w.code(*fixed_litlen(item[1]))
            if len(item) > 2:
                w.put(item[2], item[3])
        elif item[0] == "dist":
            w.code(item[1], 5)
    return w


CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def dynamic_header(hlit: int, hdist: int, clen_lengths: dict[int, int], final=True) -> BitWriter:
    """Block header up to and including the code-length code lengths."""
    hclen_count = max([CLEN_ORDER.index(s) + 1 for s in clen_lengths] + [4])
    w = BitWriter().put(int(final), 1).put(2, 2).put(hlit, 5).put(hdist, 5).put(hclen_count - 4, 4)
    for s in CLEN_ORDER[:hclen_count]:
        w.put(clen_lengths.get(s, 0), 3)
    return w


def emit_lengths_with_1_and_18(w: BitWriter, lengths: list[int]) -> BitWriter:
    """Code lengths using a code-length code where symbol 1 = '0' and 18 = '1'."""
    i = 0
    while i < len(lengths):
        if lengths[i] == 1:
            w.code(0, 1)
            i += 1
            continue
        assert lengths[i] == 0
        run = 0
        while i + run < len(lengths) and lengths[i + run] == 0 and run < 138:
            run += 1
        assert run >= 11, "construction keeps zero runs >= 11"
        w.code(1, 1).put(run - 11, 7)
        i += run
    return w


def zlib_wrap(raw: bytes, data_for_adler: bytes = b"", adler: int | None = None) -> bytes:
    a = STD_ZLIB.adler32(data_for_adler) if adler is None else adler
    return b"\x78\x9c" + raw + struct.pack(">I", a)


def zlib_header(cmf: int, flg_base: int = 0) -> bytes:
    """CMF + FLG with valid FCHECK."""
    flg = flg_base & 0xE0
    flg |= (31 - ((cmf << 8) | flg) % 31) % 31
    return bytes([cmf, flg])


def _build_raw_cases() -> dict[str, bytes]:
    cases = {}
    cases["block-type-3"] = BitWriter().put(1, 1).put(3, 2).getvalue()
    cases["stored-bad-nlen"] = BitWriter().put(1, 1).put(0, 2).raw(b"\x05\x00\x00\x00hello").getvalue()
    cases["stored-ok-control"] = BitWriter().put(1, 1).put(0, 2).raw(b"\x05\x00\xfa\xffhello").getvalue()
    cases["too-many-litlen"] = dynamic_header(30, 0, {}).getvalue() + b"\x00" * 8
    cases["too-many-dist"] = dynamic_header(0, 31, {}).getvalue() + b"\x00" * 8
    # An all-zero code-length code decodes every length as 0 (1 bit each), so
    # with enough input the block has no end-of-block code.
    cases["clen-all-zero"] = dynamic_header(0, 0, {}).getvalue() + b"\x00" * 64
    cases["clen-oversubscribed"] = dynamic_header(0, 0, {16: 1, 17: 1, 18: 1}).getvalue() + b"\x00" * 8
    # Symbol 16 ("repeat previous") with no previous length.
    cases["repeat-without-previous"] = dynamic_header(0, 0, {16: 1, 17: 1}).code(0, 1).put(0, 2).getvalue() + bytes(8)
    w = dynamic_header(0, 0, {1: 1, 18: 1})
    cases["litlen-oversubscribed"] = emit_lengths_with_1_and_18(w, [1, 1, 1] + [0] * 253 + [1] + [1]).getvalue() + bytes(8)
    w = dynamic_header(0, 2, {1: 1, 18: 1})
    cases["dist-oversubscribed"] = emit_lengths_with_1_and_18(w, [1] + [0] * 255 + [1] + [1, 1, 1]).getvalue() + bytes(8)
    w = dynamic_header(0, 0, {1: 1, 18: 1})
    cases["missing-end-of-block"] = emit_lengths_with_1_and_18(w, [1, 1] + [0] * 255 + [1]).getvalue() + bytes(8)
    cases["litlen-code-286"] = fixed_block([("lit", 65), ("sym", 286)]).getvalue() + bytes(4)
    cases["litlen-code-287"] = fixed_block([("sym", 287)]).getvalue() + bytes(4)
    cases["dist-code-30"] = fixed_block([("lit", 65), ("sym", 257), ("dist", 30)]).getvalue() + bytes(4)
    cases["dist-code-31"] = fixed_block([("lit", 65), ("sym", 257), ("dist", 31)]).getvalue() + bytes(4)
    cases["distance-too-far-at-start"] = fixed_block([("sym", 257), ("dist", 0), ("sym", 256)]).getvalue()
    # distance code 4 = distances 5..6 (1 extra bit); only 2 bytes have been output.
    cases["distance-too-far-later"] = (
        fixed_block([("lit", 65), ("lit", 66), ("sym", 257), ("dist", 4)]).put(0, 1).code(*fixed_litlen(256)).getvalue()
    )
    cases["fixed-ok-control"] = fixed_block(
        [("lit", 65), ("lit", 66), ("sym", 257), ("dist", 1), ("sym", 256)]
    ).getvalue()
    cases["non-final-then-eof"] = fixed_block([("lit", 65), ("sym", 256)], final=False).getvalue()
    cases["empty"] = b""
    return cases


RAW_CASES = _build_raw_cases()

_good_zlib = STD_ZLIB.compress(b"hello hello hello")
_good_gzip = STD_ZLIB.compress(b"hello hello hello", 6, 31)
_hello_raw = STD_ZLIB.compress(b"hello hello hello", 6, -15)


def _gzip_member(flags: int, method: int = 8, hcrc_ok: bool = True, crc_delta=0, size_delta=0) -> bytes:
    head = b"\x1f\x8b" + bytes([method, flags]) + b"\x00\x00\x00\x00\x00\x03"
    if flags & 0x08:
        head += b"name\x00"
    if flags & 0x02:
        crc = STD_ZLIB.crc32(head) & 0xFFFF
        head += struct.pack("<H", crc if hcrc_ok else crc ^ 0x5A5A)
    payload = b"hello hello hello"
    return head + _hello_raw + struct.pack(
        "<II", (STD_ZLIB.crc32(payload) + crc_delta) & 0xFFFFFFFF, len(payload) + size_delta
    )


ZLIB_CASES = {
    # (stream, wbits)
    "zlib-bad-header-check": (b"\x78\x9d" + _good_zlib[2:], 15),
    "zlib-unknown-method": (zlib_header(0x79) + _good_zlib[2:], 15),
    "zlib-method-0": (zlib_header(0x70) + _good_zlib[2:], 15),
    "zlib-window-too-big-cinfo8": (zlib_header(0x88) + _good_zlib[2:], 15),
    "zlib-window-bigger-than-wbits": (_good_zlib, 12),
    "zlib-needs-dictionary": (zlib_header(0x78, 0x20) + struct.pack(">I", 12345) + _good_zlib[2:], 15),
    "zlib-adler-mismatch": (_good_zlib[:-1] + bytes([_good_zlib[-1] ^ 1]), 15),
    "zlib-adler-truncated": (_good_zlib[:-2], 15),
    "zlib-header-only": (_good_zlib[:2], 15),
    "zlib-one-byte": (_good_zlib[:1], 15),
    "gzip-bad-magic": (b"\x1f\x8c" + _good_gzip[2:], 31),
    "gzip-unknown-method": (_gzip_member(0, method=7), 31),
    "gzip-reserved-flags": (_gzip_member(0x20), 31),
    "gzip-header-crc-mismatch": (_gzip_member(0x02 | 0x08, hcrc_ok=False), 31),
    "gzip-header-crc-ok-control": (_gzip_member(0x02 | 0x08), 31),
    "gzip-crc-mismatch": (_gzip_member(0, crc_delta=1), 31),
    "gzip-length-mismatch": (_gzip_member(0, size_delta=1), 31),
    "gzip-truncated-trailer": (_good_gzip[:-4], 31),
    "gzip-truncated-header": (_good_gzip[:7], 31),
    "auto-neither-zlib-nor-gzip": (b"\x00\x01\x02\x03\x04\x05", 47),
    "auto-gzip-crc-mismatch": (_gzip_member(0, crc_delta=1), 47),
    "auto-zlib-adler-mismatch": (_good_zlib[:-1] + bytes([_good_zlib[-1] ^ 1]), 47),
}
for _name, _raw in RAW_CASES.items():
    ZLIB_CASES[f"raw-{_name}"] = (_raw, -15)
    # The same body inside a zlib container (adler of b"" is wrong for the OK controls).
    ZLIB_CASES[f"zlibwrapped-{_name}"] = (zlib_wrap(_raw), 15)


def test_hand_built_streams_hit_the_intended_zlib_errors():
    """Premise check: each hand-built case triggers the specific zlib reason it is named after."""
    expected = {
        "block-type-3": "invalid block type",
        "stored-bad-nlen": "invalid stored block lengths",
        "too-many-litlen": "too many length or distance symbols",
        "too-many-dist": "too many length or distance symbols",
        "clen-all-zero": "invalid code -- missing end-of-block",
        "clen-oversubscribed": "invalid code lengths set",
        "repeat-without-previous": "invalid bit length repeat",
        "litlen-oversubscribed": "invalid literal/lengths set",
        "dist-oversubscribed": "invalid distances set",
        "missing-end-of-block": "invalid code -- missing end-of-block",
        "litlen-code-286": "invalid literal/length code",
        "litlen-code-287": "invalid literal/length code",
        "dist-code-30": "invalid distance code",
        "dist-code-31": "invalid distance code",
        "distance-too-far-at-start": "invalid distance too far back",
        "distance-too-far-later": "invalid distance too far back",
        "non-final-then-eof": "incomplete or truncated stream",
        "empty": "incomplete or truncated stream",
    }
    for name, reason in expected.items():
        with pytest.raises(STD_ZLIB.error) as exc:
            STD_ZLIB.decompress(RAW_CASES[name], -15)
        assert str(exc.value).endswith(reason), (name, str(exc.value))
    assert STD_ZLIB.decompress(RAW_CASES["stored-ok-control"], -15) == b"hello"
    assert STD_ZLIB.decompress(RAW_CASES["fixed-ok-control"], -15) == b"ABABA"


@pytest.mark.parametrize("case", sorted(ZLIB_CASES))
def test_zlib_decompress_malformed_like_stdlib(zlib_mod, case):
    stream, wbits = ZLIB_CASES[case]

    def run(mod):
        try:
            return ("ok", mod.decompress(stream, wbits))
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))

    want = run(STD_ZLIB)
    got = run(zlib_mod)
    assert got == want
    if "control" not in case:
        assert want[0] == "raise" and want[1] == "zlib.error" and want[2]


@pytest.mark.parametrize("case", sorted(ZLIB_CASES))
def test_decompressobj_malformed_like_stdlib(zlib_mod, case):
    stream, wbits = ZLIB_CASES[case]

    def run(mod):
        do = mod.decompressobj(wbits)
        try:
            out = do.decompress(stream)
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))
        # Truncated input is not an error for a Decompress object: eof just stays False.
        return ("ok", out, do.eof, do.unused_data)

    assert run(zlib_mod) == run(STD_ZLIB)


def test_truncated_zlib_decompress_message(zlib_mod):
    with pytest.raises(zlib_mod.error, match="incomplete or truncated stream"):
        zlib_mod.decompress(_good_zlib[:-1])


def test_gzip_module_ignores_header_crc_but_zlib_checks_it(gzip_mod, zlib_mod):
    stream, _ = ZLIB_CASES["gzip-header-crc-mismatch"]
    assert STD_GZIP.decompress(stream) == b"hello hello hello"
    assert gzip_mod.decompress(stream) == b"hello hello hello"
    with pytest.raises(zlib_mod.error, match="header crc mismatch"):
        zlib_mod.decompress(stream, 31)


GZIP_CASES = {
    "crc": _gzip_member(0, crc_delta=1),
    "length": _gzip_member(0, size_delta=1),
    "method": _gzip_member(0, method=7),
    "reserved-flags": _gzip_member(0xE0),
    "bad-deflate-body": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + RAW_CASES["block-type-3"] + bytes(8),
    "too-far-back-body": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + RAW_CASES["distance-too-far-at-start"] + bytes(8),
    "truncated-body": _good_gzip[:15],
    "second-member-bad-magic": _good_gzip + b"\x1f\x8c" + _good_gzip[2:],
    "second-member-crc": _good_gzip + _gzip_member(0, crc_delta=1),
}


@pytest.mark.parametrize("case", sorted(GZIP_CASES))
def test_gzip_decompress_malformed_like_stdlib(gzip_mod, zlib_mod, case):
    # Note: a corrupt deflate body surfaces as zlib.error from gzip.decompress, as in the stdlib.
    blob = GZIP_CASES[case]

    def run(mod, zmod):
        try:
            return ("ok", mod.decompress(blob))
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, zmod, mod), str(exc))

    assert run(gzip_mod, zlib_mod) == run(STD_GZIP, STD_ZLIB)


# ---------------------------------------------------------------------------
# Differential mutation fuzzing
# ---------------------------------------------------------------------------

CONTAINERS = {"zlib": 15, "raw": -15, "gzip": 31}

_payloads = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda n, s: text_bytes(n, s), st.integers(0, 5000), st.integers(0, 1000)),
    st.builds(lambda n, s: seeded_bytes(n, s), st.integers(0, 2000), st.integers(0, 1000)),
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=5), st.integers(1, 3000)),
)

_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 4)),
)


def mutate(stream: bytes, mutations) -> bytes:
    b = bytearray(stream)
    for op, pos, arg in mutations:
        if not b and op != "insert":
            continue
        i = pos % (len(b) + (op == "insert")) if (b or op == "insert") else 0
        if op == "flip":
            b[i] ^= 1 << arg
        elif op == "set":
            b[i] = arg
        elif op == "truncate":
            del b[i:]
        elif op == "insert":
            b.insert(i, arg)
        elif op == "delete":
            del b[i : i + arg]
    return bytes(b)


def _outcome(fn, zmod, gzmod=None):
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001
        return ("raise", error_kind(exc, zmod, gzmod))


ALLOWED_ZLIB_KINDS = {"zlib.error"}
ALLOWED_GZIP_KINDS = {"zlib.error", "BadGzipFile", "EOFError"}


@pytest.mark.timeout(300)
@settings(max_examples=300, deadline=None)
@given(
    payload=_payloads,
    container=st.sampled_from(sorted(CONTAINERS)),
    level=st.sampled_from([0, 1, 6, 9]),
    mutations=st.lists(_mutation, min_size=1, max_size=4),
    decode_auto=st.booleans(),
)
def test_mutated_streams_zlib_decompress_differential(zlib_mod, payload, container, level, mutations, decode_auto):
    wbits = CONTAINERS[container]
    stream = mutate(STD_ZLIB.compress(payload, level, wbits), mutations)
    if decode_auto and wbits > 0:
        wbits = 47
    want = _outcome(lambda: STD_ZLIB.decompress(stream, wbits), STD_ZLIB)
    got = _outcome(lambda: zlib_mod.decompress(stream, wbits), zlib_mod)
    if got[0] == "raise":
        assert got[1] in ALLOWED_ZLIB_KINDS
    assert got == want


@pytest.mark.timeout(300)
@settings(max_examples=200, deadline=None)
@given(payload=_payloads, level=st.sampled_from([1, 9]), mutations=st.lists(_mutation, min_size=1, max_size=3),
       two_members=st.booleans())
def test_mutated_streams_gzip_decompress_differential(gzip_mod, zlib_mod, payload, level, mutations, two_members):
    blob = STD_GZIP.compress(payload, level, mtime=0)
    if two_members:
        blob += STD_GZIP.compress(payload[:100], level, mtime=0)
    blob = mutate(blob, mutations)
    want = _outcome(lambda: STD_GZIP.decompress(blob), STD_ZLIB, STD_GZIP)
    got = _outcome(lambda: gzip_mod.decompress(blob), zlib_mod, gzip_mod)
    if got[0] == "raise":
        assert got[1] in ALLOWED_GZIP_KINDS
    assert got == want


@pytest.mark.timeout(300)
@settings(max_examples=150, deadline=None)
@given(
    payload=_payloads,
    container=st.sampled_from(sorted(CONTAINERS)),
    mutations=st.lists(_mutation, min_size=1, max_size=3),
    max_lengths=st.lists(st.integers(1, 64), min_size=1, max_size=5),
)
def test_mutated_streams_decompressobj_small_max_length_terminates(zlib_mod, payload, container, mutations, max_lengths):
    wbits = CONTAINERS[container]
    stream = mutate(STD_ZLIB.compress(payload, 6, wbits), mutations)

    def drive(mod):
        # The same call pattern on both modules; note that Decompress.flush()
        # returns what it can and does NOT raise on corrupt data (CPython
        # ignores inflate errors in flush), so results are compared, not assumed.
        do = mod.decompressobj(wbits)
        out = bytearray()
        buf = stream
        deadline = time.monotonic() + 60  # hang guard only, not a performance bound
        steps = 0
        while True:
            cap = max_lengths[steps % len(max_lengths)]
            piece = do.decompress(buf, cap)
            assert len(piece) <= cap
            out += piece
            steps += 1
            assert time.monotonic() < deadline, "decompress loop does not terminate"
            if not do.unconsumed_tail or do.eof:
                break
            buf = do.unconsumed_tail
        out += do.flush()
        return bytes(out), do.eof

    want = _outcome(lambda: drive(STD_ZLIB), STD_ZLIB)
    got = _outcome(lambda: drive(zlib_mod), zlib_mod)
    if got[0] == "raise":
        assert got[1] in ALLOWED_ZLIB_KINDS
    assert got == want


@pytest.mark.parametrize("seed", range(5))
def test_random_garbage_never_crashes(zlib_mod, gzip_mod, seed):
    for i in range(200):
        blob = seeded_bytes(1 + (i * 37) % 500, seed * 1000 + i)
        for wbits in (15, -15, 31, 47):
            want = _outcome(lambda blob=blob, wbits=wbits: STD_ZLIB.decompress(blob, wbits), STD_ZLIB)
            assert _outcome(lambda blob=blob, wbits=wbits: zlib_mod.decompress(blob, wbits), zlib_mod) == want
        want = _outcome(lambda blob=blob: STD_GZIP.decompress(b"\x1f\x8b\x08\x00" + blob), STD_ZLIB, STD_GZIP)
        assert _outcome(lambda blob=blob: gzip_mod.decompress(b"\x1f\x8b\x08\x00" + blob), zlib_mod, gzip_mod) == want


@pytest.mark.parametrize("cap", [1, 2])
def test_decompressobj_flush_swallows_data_errors_like_stdlib(zlib_mod, cap):
    # Found by the fuzzer: with a small max_length all input is absorbed, and the
    # corrupt distance is only met inside flush(), which CPython does not report.
    stream = bytes.fromhex("9b30800100")  # raw deflate: literal 0x90, then a too-far match

    def run(mod):
        do = mod.decompressobj(-15)
        try:
            head = do.decompress(stream, cap)
            return ("ok", head, do.unconsumed_tail, do.flush(), do.eof)
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))

    want = run(STD_ZLIB)
    assert run(zlib_mod) == want
    with pytest.raises(zlib_mod.error, match="invalid distance too far back"):
        zlib_mod.decompressobj(-15).decompress(stream)


@pytest.mark.parametrize("cut", [b"\x1f\x8b\x09", b"\x1f\x8b\x07", b"\x1f\x8b\x08\xff"])
def test_gzip_header_cut_after_the_method_byte_like_stdlib(zlib_mod, cut):
    """zlib judges the gzip method and flag bytes together: a stream that ends
    right after a bad method byte still needs input (no error yet), one that
    also has the flags byte is refused; one-shot decoding calls both truncated
    or invalid exactly as the stdlib does. (Found by the mutation test above.)"""

    def stream(mod):
        do = mod.decompressobj(31)
        return do.decompress(cut, 1), do.eof

    assert _outcome(lambda: stream(zlib_mod), zlib_mod) == _outcome(
        lambda: stream(STD_ZLIB), STD_ZLIB
    )
    assert _outcome(lambda: zlib_mod.decompress(cut, 31), zlib_mod) == _outcome(
        lambda: STD_ZLIB.decompress(cut, 31), STD_ZLIB
    )
