"""Places: a named set of serial resources (DUT, interface board, monitor) on some host.

Two sources give them, behind one small interface (:class:`PlaceSource`): the labgrid
coordinator (:mod:`tinyperf.farm.coordinator`), or a place file for the small lab with no
coordinator::

    places:
      kws-a:
        tags: {bench: kws}
        dut: rfc2217://lab-pc:3001       # any pyserial URL or device path
      bench-1:
        tags: {bench: energy}
        interface: /dev/ttyACM0
        monitor: /dev/ttyACM1
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from tinyperf.farm.matrix import MatrixError, _lines
from tinyperf.formats.errors import ConformanceError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class PlaceError(ConformanceError):
    """A place cannot be used (unknown, held by someone else, its resources are gone)."""

    def __init__(self, place: str, message: str):
        self.place = place
        super().__init__(f"place {place}: {message}")


@dataclass(frozen=True)
class Resource:
    """One serial resource of a place, as the farm sees it."""

    name: str
    url: str | None  # None while it cannot be reached (not acquired, exporter gone)
    avail: bool = True
    host: str | None = None


@dataclass(frozen=True)
class Place:
    """A place: its name, tags, who holds it, and its resources by name."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    holder: str | None = None

    def url(self, role: str) -> str:
        """The URL of resource ``role``, or :class:`PlaceError` saying why there is none."""
        res = self.resources.get(role)
        if res is None:
            have = ", ".join(sorted(self.resources)) or "none"
            raise PlaceError(self.name, f"has no resource named {role!r} (it has: {have})")
        if not res.avail or not res.url:
            raise PlaceError(self.name, f"resource {role!r} is not available (exporter or "
                                        "board gone?)")
        return res.url


class PlaceSource(Protocol):
    """Where places come from; ``acquire``/``release`` bracket a place's jobs."""

    def places(self) -> list[Place]: ...

    def acquire(self, name: str) -> Place: ...

    def release(self, name: str) -> None: ...

    def check(self, name: str) -> str | None:
        """``None`` when the place is still usable, else the reason it is not."""
        ...

    def describe(self) -> str: ...


def parse_place_file(text: str, path: Path | str = "<places>") -> list[Place]:
    """The places of a place file's text (pure)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise MatrixError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                          mark.line + 1 if mark else None) from None
    lines = _lines(node)
    if not isinstance(doc, dict) or not isinstance(doc.get("places"), dict) \
            or not doc["places"]:
        raise MatrixError("a place file is a mapping with a non-empty 'places' mapping", path,
                          lines.get(()), "places")
    places = []
    for name, entry in doc["places"].items():
        line = lines.get(("places", name))
        if not isinstance(name, str) or not _NAME.match(name):
            raise MatrixError(f"not a place name: {name!r}", path, line, "places")
        if not isinstance(entry, dict):
            raise MatrixError("a place is a mapping of resource: URL (and tags)", path, line,
                              name)
        tags = entry.get("tags") or {}
        if not isinstance(tags, dict):
            raise MatrixError("tags must be a mapping", path, lines.get(("places", name, "tags")),
                              f"{name}.tags")
        resources: dict[str, Resource] = {}
        for role, url in entry.items():
            if role == "tags":
                continue
            if not isinstance(url, str) or not url:
                raise MatrixError("a resource is a port URL or device path", path,
                                  lines.get(("places", name, role)), f"{name}.{role}")
            resources[str(role)] = Resource(str(role), url)
        if not resources:
            raise MatrixError("a place needs at least one resource (dut: URL)", path, line, name)
        places.append(Place(name, {str(k): str(v) for k, v in tags.items()}, resources))
    return places


class PlaceFile:
    """Places from a YAML file; "acquiring" one only keeps two farm runs in this process apart."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MatrixError("place file not found", self.path) from None
        self._places = {p.name: p for p in parse_place_file(text, self.path)}
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def places(self) -> list[Place]:
        return [Place(p.name, p.tags, p.resources, "this farm run" if p.name in self._held
                      else None) for p in self._places.values()]

    def acquire(self, name: str) -> Place:
        with self._lock:
            if name not in self._places:
                raise PlaceError(name, f"not in {self.path}")
            if name in self._held:
                raise PlaceError(name, "already in use by this farm run")
            self._held.add(name)
        return self._places[name]

    def release(self, name: str) -> None:
        with self._lock:
            self._held.discard(name)

    def check(self, name: str) -> str | None:
        return None if name in self._places else f"not in {self.path}"

    def describe(self) -> str:
        return f"place file {self.path}"


def place_summary(place: Place) -> dict[str, Any]:
    """A place as plain data (``farm status --format json``)."""
    return {"name": place.name, "tags": place.tags, "holder": place.holder,
            "resources": {r.name: {"url": r.url, "avail": r.avail, "host": r.host}
                          for r in place.resources.values()}}
