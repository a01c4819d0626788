"""PNG images from a submission, checked before a page shows them.

:func:`clean_png` accepts only a complete, well-formed PNG: the signature, every
chunk's length and CRC, a sane ``IHDR`` (size capped), image data that
decompresses (with a bounded buffer, so no decompression bomb) to exactly the
bytes its header announces with a valid filter byte on every row, and an
``IEND``. It returns the image rewritten with its critical chunks only
(``IHDR``, ``PLTE``, ``tRNS``, ``IDAT``, ``IEND``; text and every other
ancillary chunk dropped), or None. Only such bytes become a ``data:image/png``
URI in a report; nothing a student wrote is ever put into a page as markup.
"""
from __future__ import annotations

import base64
import binascii
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 2_000_000
MAX_SIDE = 8192
MAX_PIXELS = 16_000_000
_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def _rows(width: int, height: int, depth: int, channels: int, interlace: int) -> list[tuple[int, int]]:
    """(row bytes without the filter byte, number of rows) of each pass."""
    def row(w):
        return (w * depth * channels + 7) // 8

    if interlace == 0:
        return [(row(width), height)]
    passes = []
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w > 0 and h > 0:
            passes.append((row(w), h))
    return passes


def clean_png(data: bytes, max_bytes: int = MAX_BYTES) -> bytes | None:
    """``data`` rewritten with its critical chunks if it is a valid PNG within the caps, else None."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > max_bytes or not data.startswith(SIGNATURE):
        return None
    data = bytes(data)
    pos, chunks, header = len(SIGNATURE), [], None
    idat = []
    while True:
        if pos + 8 > len(data):
            return None
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data) or not ctype.isalpha():
            return None
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            return None
        if header is None and ctype != b"IHDR":
            return None
        if ctype == b"IHDR":
            if header is not None or length != 13:
                return None
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        if ctype in _KEEP:
            chunks.append(data[pos:end])
        elif not ctype[:1].islower():  # an unknown critical chunk: not an image we understand
            return None
        pos = end
        if ctype == b"IEND":
            break
    if pos != len(data) or not idat:
        return None
    width, height, depth, color, compression, filt, interlace = header
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS):
        return None
    if color not in _CHANNELS or depth not in _DEPTHS[color] or compression or filt or interlace not in (0, 1):
        return None
    passes = _rows(width, height, depth, _CHANNELS[color], interlace)
    expected = sum((rb + 1) * n for rb, n in passes)
    d = zlib.decompressobj()
    try:
        raw = d.decompress(b"".join(idat), expected + 1)
    except zlib.error:
        return None
    if len(raw) != expected or d.unconsumed_tail or not d.eof:
        return None
    at = 0
    for rb, n in passes:
        for _ in range(n):
            if raw[at] > 4:
                return None
            at += rb + 1
    return SIGNATURE + b"".join(chunks)


def png_bytes(value) -> bytes | None:
    """The bytes of a PNG as captured figure data carries it (a ``uint8`` array), or None."""
    import numpy as np

    if isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 1 and value.size <= MAX_BYTES:
        return value.tobytes()
    return None


def png_data_uri_b64(data: bytes | None) -> str | None:
    """Base64 of a cleaned PNG (for ``data:image/png;base64,...``), or None when it is not a valid PNG."""
    clean = clean_png(data) if data is not None else None
    return base64.b64encode(clean).decode("ascii") if clean is not None else None


def clean_b64_png(text: str, max_chars: int = 2 * MAX_BYTES) -> str | None:
    """A base64 PNG (a notebook's ``image/png`` output) checked and rewritten, or None."""
    if not isinstance(text, str) or len(text) > max_chars:
        return None
    try:
        raw = base64.b64decode(text.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return png_data_uri_b64(raw)
