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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

#: Files larger than this are listed but not parsed (raw data beyond it is "too large").
READ_CAP = 256 * 1024 * 1024
ARCHIVE_MAX_BYTES = 4 * 1024 * 1024 * 1024
ARCHIVE_MAX_MEMBERS = 200_000


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
    """Where an archive was unpacked and which members were refused (with why)."""

    root: Path
    rejected: list[tuple[str, str]] = field(default_factory=list)


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


@contextmanager
def unpacked(path: Path) -> Iterator[Extraction]:
    """Extract a ``.zip``/``.tar.gz`` into a temporary folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tinyperf-check-") as tmp:
        out = Extraction(Path(tmp))
        if path.name.lower().endswith(".zip"):
            _unzip(path, out)
        else:
            _untar(path, out)
        yield out


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
            if reason is None and total > ARCHIVE_MAX_BYTES:
                reason = "archive expands beyond the size cap"
            if reason:
                out.rejected.append((info.filename, reason))
                continue
            target = out.root / PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                dst.write(src.read(READ_CAP))


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
            target = out.root / PurePosixPath(member.name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(member)
            if src is not None:
                with src, open(target, "wb") as dst:
                    dst.write(src.read(READ_CAP))
