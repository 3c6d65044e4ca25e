"""Fault injection for the virtual DUT, described as data.

Owns the fault records and the deterministic trigger bookkeeping: a fault fires at the
k-th occurrence (1-based) of a command verb (``name``, ``db``, ``infer``, …). The server
applies the fired faults to that command's response on the wire; this module does no I/O.

Kinds:

- ``garbage``: ``count`` bytes of ``pattern`` (``ff``, ``00`` or ``random``, seeded) sent
  before the response.
- ``drop_chars``: ``count`` characters removed from response line ``line`` at ``position``.
- ``stall``: nothing is sent for ``seconds`` (longer than the host timeout), then the response
  follows unless ``respond`` is false.
- ``reset``: the DUT reboots instead of answering: the boot banner is printed again and the
  loaded buffer is cleared.
- ``error_line``: ``e-[{text}]`` is printed before the response's ``m-ready``.
- ``freeze``: the DUT hangs mid-reply: the first ``line`` lines of the response are sent,
  then nothing ever again (the port stays open; later commands get no answer either).

Faults on the data of an ``fl load``/``fl shift`` block (host to DUT; docs/fast_load.md),
counted per block (``occurrence`` = the k-th block, ``verb`` is ``fl``), at the block's
byte ``position``:

- ``rx_drop``: the byte is lost; ``rx_dup``: it arrives twice; ``rx_garble``: it arrives
  with its bits inverted;
- ``rx_stall``: the bytes from there on arrive ``seconds`` later (longer than the DUT's
  receive timeout: the block times out, the rest is read as commands);
- ``rx_reset``: the DUT reboots there (banner), the rest is read by the fresh parser.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from tinyperf.formats.errors import ConfigError

RX_KINDS = ("rx_drop", "rx_dup", "rx_garble", "rx_stall", "rx_reset")
KINDS = ("garbage", "drop_chars", "stall", "reset", "error_line", "freeze", *RX_KINDS)
PATTERNS = ("ff", "00", "random")


@dataclass(frozen=True)
class Fault:
    """One fault: what happens, on which command verb, at which occurrence of it."""

    kind: str
    verb: str
    occurrence: int = 1
    count: int = 8
    pattern: str = "ff"
    line: int = 0
    position: int = 2
    seconds: float = 5.0
    respond: bool = True
    text: str = "injected fault"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown fault kind {self.kind!r}; known: {KINDS}", key="kind")
        if self.occurrence < 1:
            raise ConfigError("occurrence is 1-based and must be >= 1", key="occurrence")
        if self.pattern not in PATTERNS:
            raise ConfigError(f"pattern must be one of {PATTERNS}", key="pattern")
        if self.count < 0 or self.seconds < 0:
            raise ConfigError("count and seconds must be >= 0", key="count")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str | None = None) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"unknown fault key(s) {sorted(unknown)}", path=source)
        try:
            return cls(**dict(raw))
        except TypeError as exc:
            raise ConfigError(str(exc), path=source) from exc

    def garbage_bytes(self) -> bytes:
        """The bytes of a ``garbage`` fault (deterministic for ``seed``)."""
        if self.pattern == "ff":
            return b"\xff" * self.count
        if self.pattern == "00":
            return b"\x00" * self.count
        return random.Random(self.seed).randbytes(self.count)

    def damage(self, lines: list[str]) -> list[str]:
        """Apply ``drop_chars`` to a response's lines (out-of-range line: the last one)."""
        if not lines:
            return lines
        idx = min(self.line, len(lines) - 1)
        text = lines[idx]
        pos = min(self.position, len(text))
        return [*lines[:idx], text[:pos] + text[pos + self.count :], *lines[idx + 1 :]]


class FaultPlan:
    """Counts command verbs and tells which faults fire for each command. One per DUT."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self.faults = tuple(faults)
        self._seen: Counter[str] = Counter()
        self._blocks = 0
        #: (verb, occurrence, kind) of every fault fired so far, for test assertions.
        self.fired: list[tuple[str, int, str]] = []

    def on_command(self, verb: str) -> list[Fault]:
        """Register one command with first token ``verb``; return the faults due now."""
        self._seen[verb] += 1
        n = self._seen[verb]
        due = [f for f in self.faults if f.verb == verb and f.occurrence == n
               and f.kind not in RX_KINDS]
        self.fired.extend((verb, n, f.kind) for f in due)
        return due

    def on_block(self) -> list[Fault]:
        """Register the start of one ``fl`` data block; return its data faults."""
        self._blocks += 1
        due = [f for f in self.faults if f.kind in RX_KINDS and f.occurrence == self._blocks]
        self.fired.extend((f.verb, self._blocks, f.kind) for f in due)
        return due


def load_faults(source: str | Path | Iterable[Mapping[str, Any]]) -> list[Fault]:
    """Faults from a YAML file (a list, or a mapping with a ``faults`` list) or from dicts."""
    path: str | None = None
    if isinstance(source, (str, Path)):
        path = str(source)
        try:
            data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read faults: {exc}", path=path) from exc
        if isinstance(data, dict):
            data = data.get("faults", [])
        if not isinstance(data, list):
            raise ConfigError("expected a list of faults", path=path, key="faults")
        items: Iterable[Any] = data
    else:
        items = source
    faults = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ConfigError("each fault must be a mapping", path=path)
        faults.append(Fault.from_dict(item, path))
    return faults
