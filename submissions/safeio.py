"""Defensive reading of untrusted submission files.

Owns: capped reads, tolerant text decoding, JSON with duplicate-key detection. Archives
are unpacked by :mod:`tinyperf.submissions.unpack`. Nothing here writes next to the input.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Files larger than this are listed but not parsed (raw data beyond it is "too large").
READ_CAP = 256 * 1024 * 1024


@dataclass
class TextFile:
    """A decoded text file: how much was replaced and whether it holds binary garbage."""

    text: str
    replaced: int  # undecodable bytes replaced by U+FFFD
    nul_bytes: int
    truncated: bool


def read_bytes(path: Path, cap: int = READ_CAP) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of ``path`` (never following a final symlink)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(cap + 1)
    return data[:cap], len(data) > cap


#: How much of a file is read to tell its format.
HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 8 * 1024 * 1024


@dataclass
class DecodeCounts:
    """Running totals of :func:`text_chunks`: characters, replaced and NUL bytes."""

    chars: int = 0
    replaced: int = 0
    nul_bytes: int = 0


def text_chunks(path: Path, counts: DecodeCounts, cap: int = READ_CAP,
                chunk: int = CHUNK_BYTES) -> Iterator[str]:
    """``path`` decoded as UTF-8 in chunks of at most ``chunk`` bytes (never following a
    final symlink, stopping at ``cap``), so a large log is never held whole."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    read = 0
    with os.fdopen(fd, "rb") as fh:
        while read < cap:
            data = fh.read(min(chunk, cap - read))
            read += len(data)
            final = not data
            text = decoder.decode(data, final=final)
            if text:
                counts.chars += len(text)
                counts.replaced += text.count("\ufffd")
                counts.nul_bytes += _nuls(data)
                yield text.replace("\x00", "") if "\x00" in text else text
            if final:
                return


def decode(data: bytes, truncated: bool = False) -> TextFile:
    text = data.decode("utf-8", errors="replace")
    return TextFile(text.replace("\x00", ""), text.count("\ufffd"), _nuls(data), truncated)


def _nuls(data: bytes) -> int:
    # ``in`` is a memchr (~25x faster than counting): almost every file has no NUL at all
    return data.count(0) if b"\x00" in data else 0


@dataclass
class JsonDoc:
    """Parsed JSON (or why not), with every duplicated key path."""

    value: Any = None
    error: str | None = None
    duplicates: list[str] = field(default_factory=list)


def load_json(text: str, *, power_samples: bool = False) -> JsonDoc:
    """Strict JSON (control characters rejected); duplicate keys recorded, last one wins.

    ``NaN``/``Infinity`` are accepted: the MLCommons runner writes them for bad samples.
    ``power_samples`` (an MLCommons energy results.json): each top-level record's
    ``power.samples`` list becomes one float64 array, as the energy recomputation reads it
    (a round's energy files hold ~3 million samples: 8 bytes each instead of a 24-byte float
    object and its list slot); a list that does not convert stays a list. When orjson is
    installed those arrays are read by its C parser (~6x faster), with the same result
    (see :func:`_load_power_samples`).
    """
    doc = _load_power_samples(text) if power_samples and _orjson is not None else None
    if doc is None:
        doc = _load(text)
    if power_samples and isinstance(doc.value, list):
        _samples_as_arrays(doc.value)
    return doc


def _record_samples(records: list[Any]) -> list[tuple[dict[str, Any], Any]]:
    """(power object, its samples) of every top-level record that has them."""
    out = []
    for rec in records:
        power = rec.get("power") if isinstance(rec, dict) else None
        if isinstance(power, dict) and "samples" in power:
            out.append((power, power["samples"]))
    return out


def _samples_as_arrays(records: list[Any]) -> None:
    for power, samples in _record_samples(records):
        if isinstance(samples, list):
            try:
                power["samples"] = np.asarray(samples, dtype=float)
            except (TypeError, ValueError, OverflowError):
                pass  # e.g. a string among the numbers: the recomputation names it


def _duplicates_hook(doc: JsonDoc) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)  # C speed: a results.json holds ~30,000 small objects
        if len(out) != len(items):  # rare: find the repeated keys, in order
            seen: set[str] = set()
            for key, _value in items:
                if key in seen:
                    doc.duplicates.append(key)
                seen.add(key)
        return out

    return pairs


def _load(text: str) -> JsonDoc:
    doc = _load_fast(text) if _orjson is not None else None
    return doc if doc is not None else _load_plain(text)


def _load_plain(text: str) -> JsonDoc:
    """The reference reading: ``json`` with every duplicated key recorded."""
    doc = JsonDoc()
    try:
        doc.value = json.loads(text, object_pairs_hook=_duplicates_hook(doc))
    except (ValueError, RecursionError) as exc:
        doc.error = str(exc)
    return doc


try:  # optional: ~7x faster on number arrays; the values are identical to json's
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

_RE_SPACED_KEY = re.compile(r'"\s+:')
#: digits as "0", to find a run of 19 (an integer orjson may read as a float) by a substring
#: search; a regex scan of a number-heavy file costs more than the parse it guards
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _load_fast(text: str) -> JsonDoc | None:
    """:func:`_load` by orjson's C parser (~4x faster on a 1,000-record results.json), or
    None when that cannot be shown to give exactly what the ``json`` path gives.

    orjson refuses most of what it reads differently (``NaN``, ``Infinity``,
    out-of-range floats, lone surrogates), but reads an integer beyond 64 bits as a float:
    a document with such a number (a run of 19 digits) takes the ``json`` path too.
    It keeps the last of duplicated keys silently, so this path is only taken when none
    can exist, which is proven by counting: with no backslash in the text (no escaped
    quote, so every ``"`` delimits a string) and no space before any colon, each ``":``
    of the text is a key's end or a string's opening quote, and orjson's compact output
    of the parsed value holds the same strings; a dropped duplicate would leave fewer.
    """
    if "\\" in text or _RE_SPACED_KEY.search(text) is not None:
        return None
    data = text.encode("utf-8", "surrogatepass")
    if b"0" * 19 in data.translate(_DIGITS_AS_ZERO):
        return None
    try:
        value = _orjson.loads(data)
        shown = _orjson.dumps(value)
    except (_orjson.JSONDecodeError, _orjson.JSONEncodeError, RecursionError):
        return None
    if text.count('":') != shown.count(b'":'):
        return None  # a duplicated key (or a string this count cannot tell): json's path
    return JsonDoc(value)


#: ``"power": {"samples": [`` of an MLCommons energy results.json (the array's start)
_POWER_SAMPLES = re.compile(r'"power"\s*:\s*\{\s*"samples"\s*:\s*\[')
#: Shorter arrays are not worth the detour (a window holds ~20,000 samples).
FAST_ARRAY_CHARS = 4096


def _load_power_samples(text: str) -> JsonDoc | None:
    """:func:`_load` with each long ``power.samples`` array parsed by orjson, or None when
    that cannot give exactly what :func:`_load` gives (then the caller uses it).

    Each array is cut out and replaced by a marker string; the rest is parsed as always
    (duplicate keys, NaN, errors), and each marker is swapped for its array. orjson reads
    numbers exactly as json does (correctly rounded); it refuses ``NaN``, ``Infinity`` and
    out-of-range numbers, and any such array sends the whole file to :func:`_load`. So does
    anything unexpected: a marker used twice or never (a duplicated ``samples`` key), an
    array that is not a record's ``power.samples``, a document that does not parse.
    """
    # stands in for an array while the rest is parsed; random, so no file can hold it
    mark = f"\x00tinyperf-samples-{os.urandom(8).hex()}-"
    pieces: list[str] = []
    arrays: list[Any] = []
    last = 0
    for m in _POWER_SAMPLES.finditer(text):
        start, end = m.end() - 1, text.find("]", m.end()) + 1  # "[" ... "]"
        if end - start < FAST_ARRAY_CHARS or text.find("{", start, end) >= 0:
            continue  # short, unclosed, or holding an object (whose keys json checks)
        try:  # a nested array or a "]" in a string cuts the slice short: not JSON, refused
            # (given bytes, orjson reads the numbers ~15% faster than given the str)
            values = _orjson.loads(text[start:end].encode("utf-8", "surrogatepass"))
        except _orjson.JSONDecodeError:
            return None
        pieces += [text[last:start], json.dumps(f"{mark}{len(arrays)}")]
        last = end
        arrays.append(values)
    if not arrays:
        return None
    pieces.append(text[last:])
    doc = JsonDoc()
    dups = _duplicates_hook(doc)
    taken: list[int] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dups(items)
        value = out.get("samples")
        if isinstance(value, str) and value.startswith(mark):
            taken.append(int(value[len(mark):]))
            out["samples"] = arrays[taken[-1]]
        return out

    try:
        doc.value = json.loads("".join(pieces), object_pairs_hook=pairs)
    except (ValueError, RecursionError, IndexError):
        return None
    if sorted(taken) != list(range(len(arrays))) or not isinstance(doc.value, list):
        return None
    # every array must be a record's power.samples, which load_json turns into float64:
    # there orjson's float for an integer beyond 64 bits and json's int convert alike
    ids = {id(a) for a in arrays}
    if len({id(v) for _p, v in _record_samples(doc.value) if id(v) in ids}) != len(arrays):
        return None
    return doc


def is_archive(path: Path) -> bool:
    """A file the checker unpacks (:mod:`tinyperf.submissions.unpack`) rather than reads."""
    name = path.name.lower()
    return path.is_file() and name.endswith((".zip", ".tar.gz", ".tgz", ".tar"))
