"""Type stubs for the native module (rust/py). Private: use scalezip.zlib / scalezip.gzip."""

from collections.abc import Callable
from typing import Any, final

__all__ = [
    "CM_BLOCK_SIZE",
    "CM_DEFAULT_LEVEL",
    "CM_DEFAULT_SEGMENT_SIZE",
    "CM_MAX_LEVEL",
    "CM_MIN_LEVEL",
    "Compressor",
    "Decompressor",
    "EntropyRangeDecoder",
    "EntropyRangeEncoder",
    "CmCompressor",
    "CmDecompressor",
    "LzwCompressor",
    "LzwDecompressor",
    "ParallelCompressor",
    "__version__",
    "adler32",
    "cm_compress",
    "cm_decompress",
    "cm_model_bytes",
    "cm_window_bytes",
    "compress",
    "compress_parallel",
    "crc32",
    "decompress",
    "decompress_into",
    "entropy_binary_decode",
    "entropy_binary_encode",
    "entropy_quantize_probs",
    "entropy_range_decode",
    "entropy_range_encode",
    "huffman_code_lengths",
    "huffman_compress",
    "huffman_decode_block",
    "huffman_decompress",
    "huffman_encode_block",
    "huffman_histogram",
    "lzw_compress",
    "lzw_decompress",
    "tensor_decode_into",
    "tensor_encode",
    "tensor_entropy_ideal",
    "quant_convert",
    "quant_dequantize",
    "quant_quantize",
    "quant_simd_isa",
]

__version__: str

def crc32(data: Any, value: int, /) -> int: ...
def adler32(data: Any, value: int, /) -> int: ...
def compress(
    data: Any,
    format: int,
    level: int,
    window_bits: int,
    mtime: int = 0,
    os: int = 255,
    xfl: int | None = None,
) -> bytes: ...
def compress_parallel(
    data: Any,
    format: int,
    level: int,
    threads: int,
    block_size: int,
    mtime: int = 0,
    os: int = 255,
    xfl: int | None = None,
) -> bytes: ...
def decompress(
    data: Any, format: int, window_bits: int, bufsize: int, zdict: Any | None = None
) -> tuple[bytes, int]: ...
def decompress_into(data: Any, out: Any, format: int, window_bits: int) -> tuple[int, int]: ...

@final
class Compressor:
    def __new__(
        cls,
        format: int,
        level: int,
        window_bits: int,
        strategy: int = 0,
        zdict: Any | None = None,
        mtime: int = 0,
        filename: bytes | None = None,
        os: int = 255,
        xfl: int | None = None,
    ) -> Compressor: ...
    def compress(self, data: Any, /) -> bytes: ...
    def flush(self, data: Any, mode: int, /) -> bytes: ...
    @property
    def finished(self) -> bool: ...
    def copy(self) -> Compressor: ...

@final
class ParallelCompressor:
    def __new__(
        cls,
        format: int,
        level: int,
        threads: int,
        block_size: int,
        mtime: int = 0,
        filename: bytes | None = None,
        os: int = 255,
        xfl: int | None = None,
    ) -> ParallelCompressor: ...
    def compress(self, data: Any, /) -> bytes: ...
    def finish(self) -> bytes: ...

@final
class Decompressor:
    def __new__(cls, format: int, window_bits: int, zdict: Any | None = None) -> Decompressor: ...
    def decompress(self, data: Any, max_length: int, /) -> tuple[bytes, int]: ...
    def flush(self, data: Any, /) -> tuple[bytes, int]: ...
    @property
    def eof(self) -> bool: ...
    @property
    def in_header(self) -> bool: ...
    @property
    def mtime(self) -> int: ...
    @property
    def filename(self) -> bytes | None: ...
    @property
    def comment(self) -> bytes | None: ...
    @property
    def extra(self) -> bytes | None: ...
    @property
    def os(self) -> int: ...
    @property
    def format(self) -> int: ...
    def copy(self) -> Decompressor: ...

def huffman_compress(
    data: Any, block_size: int = 131072, threads: int = 0, max_bits: int = 11
) -> bytes: ...
def huffman_decompress(data: Any, max_length: int | None = None, threads: int = 0) -> bytes: ...
def huffman_histogram(data: Any, /) -> list[int]: ...
def huffman_code_lengths(histogram: list[int], max_bits: int = 11) -> list[int]: ...
def huffman_encode_block(data: Any, lengths: list[int]) -> bytes: ...
def huffman_decode_block(data: Any, lengths: list[int], size: int) -> bytes: ...
def lzw_compress(data: Any, /, max_bits: int = 16, threads: int = 1) -> bytes: ...
def lzw_decompress(data: Any, /) -> bytes: ...
def quant_quantize(
    src: Any,
    dtype: str,
    outer: int,
    channels: int,
    inner: int,
    bits: int,
    symmetric: bool,
    out: Any,
    *,
    fp16_scales: bool = False,
    threads: int = 0,
    simd: bool = True,
) -> tuple[bytes, bytes]: ...
def quant_dequantize(
    q: Any,
    scales: Any,
    zeros: Any,
    outer: int,
    channels: int,
    inner: int,
    bits: int,
    symmetric: bool,
    dtype: str,
    out: Any,
    *,
    threads: int = 0,
    simd: bool = True,
) -> None: ...
def quant_convert(src: Any, src_dtype: str, out: Any, out_dtype: str) -> None: ...
def quant_simd_isa() -> str: ...

@final
class LzwCompressor:
    def __new__(
        cls, max_bits: int = 16, block_mode: bool = True, threads: int = 1
    ) -> LzwCompressor: ...
    def compress(self, data: Any, /) -> bytes: ...
    def flush(self) -> bytes: ...
    @property
    def finished(self) -> bool: ...
    @property
    def max_bits(self) -> int: ...

@final
class LzwDecompressor:
    def __new__(cls) -> LzwDecompressor: ...
    def decompress(self, data: Any, max_length: int, /) -> tuple[bytes, int]: ...
    def finish(self) -> None: ...
    @property
    def output_pending(self) -> bool: ...
    @property
    def max_bits(self) -> int | None: ...

def tensor_encode(
    data: Any,
    dtype: str,
    chunk_elems: int = 131072,
    method: str = "auto",
    threads: int = 0,
    max_bits: int = 11,
    prefix: Any = None,
    suffix: Callable[[int], Any] | None = None,
) -> bytes: ...
def tensor_decode_into(
    frames: Any,
    dtype: str,
    chunk_elems: int,
    out: Any,
    first_chunk: int = 0,
    threads: int = 0,
) -> None: ...
def tensor_entropy_ideal(data: Any, dtype: str, chunk_elems: int = 131072) -> float: ...
def entropy_range_encode(freqs: Any, symbols: Any, n: int, k: int) -> bytes: ...
def entropy_range_decode(data: Any, freqs: Any, n: int, k: int) -> bytes: ...
def entropy_binary_encode(bits: Any, p1: Any, n: int) -> bytes: ...
def entropy_binary_decode(data: Any, p1: Any, n: int) -> bytes: ...
def entropy_quantize_probs(probs: Any, n: int, k: int, total_bits: int) -> bytes: ...

@final
class EntropyRangeEncoder:
    def __new__(cls) -> EntropyRangeEncoder: ...
    def encode(self, freqs: Any, k: int, symbol: int) -> None: ...
    def finish(self) -> bytes: ...

@final
class EntropyRangeDecoder:
    def __new__(cls, data: Any) -> EntropyRangeDecoder: ...
    def decode(self, freqs: Any, k: int) -> int: ...

CM_MIN_LEVEL: int
CM_MAX_LEVEL: int
CM_DEFAULT_LEVEL: int
CM_BLOCK_SIZE: int
CM_DEFAULT_SEGMENT_SIZE: int

def cm_compress(
    data: Any, level: int = 6, threads: int = 1, segment_size: int | None = None
) -> bytes: ...
def cm_decompress(data: Any, max_length: int | None = None, threads: int = 1) -> bytes: ...
def cm_model_bytes(level: int, /) -> int: ...
def cm_window_bytes(level: int, /) -> int: ...

@final
class CmCompressor:
    def __new__(
        cls,
        level: int = 6,
        threads: int = 1,
        segment_size: int | None = None,
        size_hint: int | None = None,
    ) -> CmCompressor: ...
    def compress(self, data: Any, /) -> bytes: ...
    def flush(self) -> bytes: ...
    @property
    def finished(self) -> bool: ...
    @property
    def level(self) -> int: ...

@final
class CmDecompressor:
    def __new__(cls, threads: int = 1) -> CmDecompressor: ...
    def decompress(self, data: Any, max_length: int, /) -> tuple[bytes, int]: ...
    def finish(self) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    @property
    def output_pending(self) -> bool: ...
    @property
    def version(self) -> int | None: ...
    @property
    def level(self) -> int | None: ...
