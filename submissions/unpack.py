"""Safe extraction of a submission archive (``.zip``, ``.tar.gz``, ``.tgz``, ``.tar``).

Everything goes into a private temporary folder removed afterwards: ``../`` and absolute
paths, links and devices are refused, sizes and member counts are capped. Imported only
when the checked path is an archive (``tarfile``/``zipfile`` cost a folder check nothing).
"""

from __future__ import annotations

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

from tinyperf.submissions import safeio

ARCHIVE_MAX_BYTES = 4 * 1024 * 1024 * 1024
ARCHIVE_MAX_MEMBERS = 200_000
#: Bytes an extraction may write to the temporary folder. A member larger than the read
#: cap is never parsed, so it is created sparse (its size only, for the size rules): a
#: zip bomb costs no disk.
ARCHIVE_MAX_WRITTEN = 1024 * 1024 * 1024


@dataclass
class Extraction:
    """Where an archive was unpacked, which members were refused (with why), and why the
    archive could not be read to its end (``None``: it could)."""

    root: Path
    rejected: list[tuple[str, str]] = field(default_factory=list)  # refused: unsafe
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # damaged: not checked
    failed: str | None = None
    written: int = 0


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
        if size > safeio.READ_CAP or out.written + size > ARCHIVE_MAX_WRITTEN:
            with open(target, "wb") as dst:
                dst.truncate(size)  # listed with its size, never parsed
            if size <= safeio.READ_CAP:
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
        return src.read(safeio.READ_CAP)


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
        return src.read(safeio.READ_CAP)
