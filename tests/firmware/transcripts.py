"""Golden serial transcripts: parse ``tests/fixtures/transcripts/*.txt`` and replay them.

File format (one item per line)::

    # comment                      (ignored; "# config: k=v ..." sets the DUT build)
    > command text                 (sent as the text plus '%'; a bare '>' is an empty command)
    < expected response line       (a bare '<' is an empty line)

Expected lines are compared after masking DUT timestamps (``m-lap-us-<digits>`` becomes
``m-lap-us-*``), since the clock differs between DUTs and runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"
_LAP = re.compile(r"^m-lap-us-[0-9]+$")


@dataclass
class Exchange:
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    name: str
    config: dict[str, str]
    exchanges: list[Exchange]


def mask(line: str) -> str:
    """Replace what legitimately differs between DUTs (the timestamp value)."""
    return "m-lap-us-*" if _LAP.match(line) else line


def load(path: Path) -> Transcript:
    config: dict[str, str] = {}
    exchanges: list[Exchange] = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# config:"):
            config.update(item.split("=", 1) for item in line[len("# config:"):].split())
        elif line.startswith("#") or not line.strip():
            continue
        elif line.startswith(">"):
            exchanges.append(Exchange(line[2:] if line.startswith("> ") else line[1:]))
        elif line.startswith("<") and exchanges:
            exchanges[-1].expected.append(line[2:] if line.startswith("< ") else line[1:])
        else:
            raise ValueError(f"{path.name}:{number}: not a transcript line: {line!r}")
    return Transcript(path.stem, config, exchanges)


def all_transcripts() -> list[Path]:
    return sorted(TRANSCRIPTS.glob("*.txt"))


def replay(transcript: Transcript, send: Callable[[str], list[str]]) -> list[str]:
    """Run every exchange through ``send`` (command -> response lines); return mismatches."""
    problems = []
    for i, exchange in enumerate(transcript.exchanges):
        got = [mask(line) for line in send(exchange.command)]
        if got != exchange.expected:
            problems.append(f"{transcript.name} #{i} {exchange.command!r}:\n"
                            f"  expected {exchange.expected}\n  got      {got}")
    return problems
