"""Reproducible ``.tar.gz`` of a submission tree, with a ``MANIFEST.sha256``.

The same tree gives the same bytes: entries sorted by path, every mtime fixed, uid/gid 0
with empty owner names, modes normalised (0755 folders, 0644 files), PAX headers never
written (plain ustar/GNU), gzip header without name and with mtime 0. Symbolic links and
special files are refused, not archived. ``MANIFEST.sha256`` (``sha256sum`` format: hex,
two spaces, path) lists every file and is itself the last member.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

from tinyperf.formats.errors import ConformanceError

#: 2000-01-01T00:00:00Z: the mtime of every member (0 trips some extractors' warnings).
FIXED_MTIME = 946684800
MANIFEST = "MANIFEST.sha256"


class ArchiveError(ConformanceError):
    """The tree cannot be archived (link, special file, unreadable entry)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def collect(root: Path, include: list[str]) -> tuple[list[str], list[str]]:
    """(folders, files) under ``root``, relative ``/`` paths, limited to ``include`` tops."""
    dirs: list[str] = []
    files: list[str] = []
    for top in include:
        start = root / top
        if not start.exists():
            continue
        for cur, subdirs, names in os.walk(start):
            subdirs.sort()
            rel_cur = Path(cur).relative_to(root).as_posix()
            dirs.append(rel_cur)
            for name in sorted(subdirs + names):
                p = Path(cur) / name
                rel = f"{rel_cur}/{name}"
                if p.is_symlink():
                    raise ArchiveError(f"{rel}: symbolic link; a submission must not hold links")
                if name in subdirs:
                    continue
                if not p.is_file():
                    raise ArchiveError(f"{rel}: not a regular file")
                files.append(rel)
    return sorted(set(dirs)), sorted(files)


def _info(name: str, size: int, is_dir: bool) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if is_dir:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.type = tarfile.REGTYPE
        info.mode = 0o644
        info.size = size
    return info


def write_archive(root: Path, out: Path, include: list[str], prefix: str = "") -> dict[str, str]:
    """Archive ``include`` (top folders of ``root``) into ``out``; returns {path: sha256}.

    Members are ``<prefix>/<path>`` (``prefix`` may be empty). The manifest paths are
    relative to the archive's top (with the prefix), as ``sha256sum -c`` run there expects.
    """
    root = Path(root)
    dirs, files = collect(root, include)
    if not files:
        raise ArchiveError(f"{root}: nothing to archive under {include}")
    pre = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    sums: dict[str, str] = {}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        if pre:
            tar.addfile(_info(pre.rstrip("/"), 0, True))
        members = sorted([(d, True) for d in dirs] + [(f, False) for f in files])
        for rel, is_dir in members:
            if is_dir:
                tar.addfile(_info(pre + rel, 0, True))
                continue
            data = (root / rel).read_bytes()
            sums[pre + rel] = sha256_bytes(data)
            tar.addfile(_info(pre + rel, len(data), False), io.BytesIO(data))
        manifest = "".join(f"{h}  {p}\n" for p, h in sorted(sums.items())).encode()
        tar.addfile(_info(pre + MANIFEST, len(manifest), False), io.BytesIO(manifest))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                compresslevel=9) as gz:
        gz.write(buf.getvalue())
    os.replace(tmp, out)
    return sums


def verify_manifest(archive: Path) -> list[str]:
    """Problems found re-reading ``archive`` against its own manifest (empty: consistent)."""
    problems: list[str] = []
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        man = [n for n in members if n.rsplit("/", 1)[-1] == MANIFEST]
        if len(man) != 1:
            return [f"{len(man)} {MANIFEST} members"]
        text = tar.extractfile(members[man[0]]).read().decode()  # type: ignore[union-attr]
        listed = {}
        for line in text.splitlines():
            digest, _, path = line.partition("  ")
            listed[path] = digest
        for name, m in members.items():
            if name == man[0]:
                continue
            if name not in listed:
                problems.append(f"{name}: not in the manifest")
                continue
            data = tar.extractfile(m).read()  # type: ignore[union-attr]
            if sha256_bytes(data) != listed.pop(name):
                problems.append(f"{name}: sha256 differs from the manifest")
        problems += [f"{p}: in the manifest, not in the archive" for p in listed]
    return problems
