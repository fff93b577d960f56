"""Streaming reading of a bulk-data file: rows in chunks, never the whole file in memory.

A CSV file is decoded as it is read (UTF-8, UTF-8 with Excel's BOM, or GB18030/GBK — what
Chinese Excel writes for plain "CSV"); ``auto`` first checks the whole file as UTF-8 block by
block (bounded memory) and falls back to GB18030. GeoJSON and xlsx files are parsed in memory
by the general importer's readers (fine for the small files they are used for) and then cut
into the same chunks.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from firegrid.core.errors import ImportFailed
from firegrid.core.problems import Problem, detail
from firegrid.core.text import restore_formula
from firegrid.core.texts import TextCode

#: rows validated and written together (bounded memory: one chunk at a time)
CHUNK_ROWS = 5_000
_BLOCK_BYTES = 1 << 20


@dataclass
class ChunkedRows:
    """The header and an iterator over chunks of ``(line, cells)``; counts what it read."""

    header: list[str]
    chunks: Iterator[list[tuple[int, list[Any]]]]
    encoding: str | None = None
    chunks_read: int = 0
    rows_read: int = 0

    def __iter__(self) -> Iterator[list[tuple[int, list[Any]]]]:
        for chunk in self.chunks:
            self.chunks_read += 1
            self.rows_read += len(chunk)
            yield chunk


def detect_encoding(stream: IO[bytes], encoding: str) -> str:
    """The codec to read ``stream`` with (``utf-8-sig``, ``utf-8`` or ``gb18030``); the stream
    is rewound. ``auto`` scans the file as UTF-8 in 1 MiB blocks and falls back to GB18030."""
    if encoding not in ("auto", "utf-8", "gb18030"):
        raise ImportFailed(
            f"unknown encoding {encoding!r}: auto, utf-8 or gb18030",
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "encoding", "value": encoding, "allowed": "auto, utf-8, gb18030"},
        )
    start = stream.read(3)
    stream.seek(0)
    if encoding == "gb18030":
        return "gb18030"
    bom = start == b"\xef\xbb\xbf"
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        while block := stream.read(_BLOCK_BYTES):
            decoder.decode(block)
            offset += len(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        stream.seek(0)
        if encoding == "utf-8":
            raise ImportFailed(
                f"the CSV file is not UTF-8 (byte {offset + exc.start}); a file saved by "
                "Chinese Excel as plain CSV is GBK: use --encoding gb18030 (or auto)",
                {"byte": offset + exc.start},
                text=TextCode.IMPORT_NOT_UTF8,
                params={"byte": offset + exc.start},
            ) from None
        return "gb18030"
    stream.seek(0)
    return "utf-8-sig" if bom else "utf-8"


def read_csv_chunks(
    stream: IO[bytes], encoding: str = "auto", chunk_rows: int | None = None
) -> ChunkedRows:
    """The CSV in ``stream`` as chunks of rows; decoding errors name the line."""
    size = chunk_rows or CHUNK_ROWS
    codec = detect_encoding(stream, encoding)
    text = io.TextIOWrapper(stream, encoding=codec, newline="", errors="strict")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _unreadable(reader.line_num, exc, codec) from None
    if not header or not any(h.strip() for h in header):
        raise ImportFailed(
            "the CSV file has no header row", text=TextCode.IMPORT_NO_HEADER, params={}
        )
    names = [h.strip() for h in header]

    def chunks() -> Iterator[list[tuple[int, list[Any]]]]:
        chunk: list[tuple[int, list[Any]]] = []
        try:
            for cells in reader:
                if not any(cells):
                    continue
                if len(cells) > len(names):
                    raise ImportFailed(
                        f"line {reader.line_num} has more cells than the header",
                        {"line": reader.line_num},
                        text=TextCode.IMPORT_TOO_MANY_CELLS,
                        params={"line": reader.line_num},
                    )
                chunk.append(
                    (
                        reader.line_num,
                        [
                            (restore_formula(v) if v[0] == "'" else v) if (v := c.strip()) else None
                            for c in cells
                        ],
                    )
                )
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _unreadable(reader.line_num, exc, codec) from None
        if chunk:
            yield chunk

    return ChunkedRows(names, chunks(), encoding=codec)


def rows_in_chunks(
    rows: list[tuple[int, dict[str, Any]]], chunk_rows: int | None = None
) -> ChunkedRows:
    """Rows already parsed (GeoJSON, xlsx) as chunks with one header: the union of keys."""
    size = chunk_rows or CHUNK_ROWS
    header: list[str] = []
    for _, values in rows:
        header.extend(k for k in values if k not in header)

    def chunks() -> Iterator[list[tuple[int, list[Any]]]]:
        for start in range(0, len(rows), size):
            yield [
                (line, [values.get(name) for name in header])
                for line, values in rows[start : start + size]
            ]

    return ChunkedRows(header, chunks())


def _unreadable(line: int, exc: Exception, codec: str) -> ImportFailed:
    if isinstance(exc, UnicodeDecodeError):
        return ImportFailed(
            f"the CSV file cannot be decoded as {codec} near line {line}: save it from Excel "
            'as "CSV UTF-8", or name the encoding with --encoding',
            {"line": line},
            text=TextCode.IMPORT_ENCODING,
            params={"encoding": codec, "line": line},
        )
    return ImportFailed(
        f"the CSV file cannot be read at line {line}: {exc}",
        {"line": line},
        text=TextCode.FILE_LINE_INVALID,
        params={
            "file": "CSV",
            "line": line,
            "problem": Problem.CSV_MALFORMED,
            "detail": detail(exc),
        },
    )
