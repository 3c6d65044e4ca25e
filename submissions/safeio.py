"""Defensive reading of untrusted submission files and archives.

Owns: capped reads, tolerant text decoding, JSON with duplicate-key detection, and archive
extraction into a private temporary folder (``../``, absolute paths, links and devices
rejected). Nothing here writes next to the input.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

#: Files larger than this are listed but not parsed (raw data beyond it is "too large").
READ_CAP = 256 * 1024 * 1024
ARCHIVE_MAX_BYTES = 4 * 1024 * 1024 * 1024
ARCHIVE_MAX_MEMBERS = 200_000
#: Bytes an extraction may write to the temporary folder. A member larger than the read
#: cap is never parsed, so it is created sparse (its size only, for the size rules): a
#: zip bomb costs no disk.
ARCHIVE_MAX_WRITTEN = 1024 * 1024 * 1024


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
                counts.nul_bytes += data.count(0)
                yield text.replace("\x00", "") if "\x00" in text else text
            if final:
                return


def decode(data: bytes, truncated: bool = False) -> TextFile:
    text = data.decode("utf-8", errors="replace")
    return TextFile(text.replace("\x00", ""), text.count("\ufffd"), data.count(0), truncated)


@dataclass
class JsonDoc:
    """Parsed JSON (or why not), with every duplicated key path."""

    value: Any = None
    error: str | None = None
    duplicates: list[str] = field(default_factory=list)


def load_json(text: str) -> JsonDoc:
    """Strict JSON (control characters rejected); duplicate keys recorded, last one wins.

    ``NaN``/``Infinity`` are accepted: the MLCommons runner writes them for bad samples.
    """
    doc = JsonDoc()

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                doc.duplicates.append(key)
            out[key] = value
        return out

    try:
        doc.value = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError) as exc:
        doc.error = str(exc)
    return doc


@dataclass
class Extraction:
    """Where an archive was unpacked, which members were refused (with why), and why the
    archive could not be read to its end (``None``: it could)."""

    root: Path
    rejected: list[tuple[str, str]] = field(default_factory=list)  # refused: unsafe
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # damaged: not checked
    failed: str | None = None
    written: int = 0


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith((".zip", ".tar.gz", ".tgz", ".tar"))


def _unsafe(name: str) -> str | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or (p.parts and p.parts[0].endswith(":")):
        return "absolute path"
    if ".." in p.parts:
        return "'..' in path"
    return None


#: What a damaged archive raises while it is read (truncated, random bytes, bad CRC,
#: encrypted member, a path that is a file and a folder): one finding, never a traceback.
ARCHIVE_ERRORS = (OSError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile,
                  tarfile.TarError, NotImplementedError, zlib.error)


@contextmanager
def unpacked(path: Path) -> Iterator[Extraction]:
    """Extract a ``.zip``/``.tar.gz`` into a temporary folder removed afterwards. A
    damaged archive leaves what could be read and ``failed`` saying why."""
    with tempfile.TemporaryDirectory(prefix="tinyperf-check-") as tmp:
        out = Extraction(Path(tmp))
        try:
            if path.name.lower().endswith(".zip"):
                _unzip(path, out)
            else:
                _untar(path, out)
        except ARCHIVE_ERRORS as exc:
            out.failed = f"{path.name}: archive unreadable after {out.written} bytes " \
                         f"({type(exc).__name__}: {_short(exc)})"
        yield out


def _short(exc: BaseException) -> str:
    return str(exc).replace(os.sep.join(("", "tmp", "")), "")[:200] or "no detail"


def _member_target(out: Extraction, name: str) -> Path:
    return out.root / PurePosixPath(name.replace("\\", "/"))


def _write_member(out: Extraction, name: str, size: int, read: Any) -> None:
    """One member: content when it may be parsed and the written budget allows, else a
    sparse file of its size. A path clash (file vs folder) is a refused member."""
    target = _member_target(out, name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if size > READ_CAP or out.written + size > ARCHIVE_MAX_WRITTEN:
            with open(target, "wb") as dst:
                dst.truncate(size)  # listed with its size, never parsed
            if size <= READ_CAP:
                out.rejected.append((name, "over the extraction budget: size kept, "
                                           "content not extracted"))
            return
        data = read()
        with open(target, "wb") as dst:
            dst.write(data)
        out.written += len(data)
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        out.unreadable.append((name, f"path clash with another member ({type(exc).__name__})"))


def _unzip(path: Path, out: Extraction) -> None:
    total = 0
    with zipfile.ZipFile(path) as zf:
        for n, info in enumerate(zf.infolist()):
            reason = _unsafe(info.filename)
            if n >= ARCHIVE_MAX_MEMBERS:
                reason = "too many members"
            elif (info.external_attr >> 16) & 0o170000 == 0o120000:
                reason = "symbolic link"
            total += info.file_size
            if reason is None and info.flag_bits & 0x1:
                out.unreadable.append((info.filename, "encrypted member: cannot be read"))
                continue
            if reason is None and total > ARCHIVE_MAX_BYTES:
                reason = "archive expands beyond the size cap"
            if reason:
                out.rejected.append((info.filename, reason))
                continue
            if info.is_dir():
                try:
                    _member_target(out, info.filename).mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError) as exc:
                    out.unreadable.append((info.filename, f"path clash ({type(exc).__name__})"))
                continue
            try:
                _write_member(out, info.filename, info.file_size,
                              lambda info=info: _zip_read(zf, info))
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError) as exc:
                # one damaged member (bad CRC, truncated data): not checked, the rest read
                out.unreadable.append((info.filename, f"unreadable member "
                                                      f"({type(exc).__name__}: {_short(exc)})"))


def _zip_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with zf.open(info) as src:
        return src.read(READ_CAP)


def _untar(path: Path, out: Extraction) -> None:
    total = 0
    with tarfile.open(path) as tf:
        for n, member in enumerate(tf):
            reason = _unsafe(member.name)
            if n >= ARCHIVE_MAX_MEMBERS:
                reason = "too many members"
            elif member.issym() or member.islnk():
                reason = "link"
            elif not (member.isfile() or member.isdir()):
                reason = "special file"
            total += max(member.size, 0)
            if reason is None and total > ARCHIVE_MAX_BYTES:
                reason = "archive expands beyond the size cap"
            if reason:
                out.rejected.append((member.name, reason))
                continue
            if member.isdir():
                try:
                    _member_target(out, member.name).mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError) as exc:
                    out.unreadable.append((member.name, f"path clash ({type(exc).__name__})"))
                continue
            _write_member(out, member.name, member.size,
                          lambda member=member: _tar_read(tf, member))


def _tar_read(tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    src = tf.extractfile(member)
    if src is None:
        return b""
    with src:
        return src.read(READ_CAP)
