"""What check kinds read: the loaded tree, the recomputed figures, settings, the division.

Owns the ``Hit`` record a kind returns and the scope filtering shared by all kinds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tinyperf.rules.ruleset import Rule
from tinyperf.submissions.equivalence import ModelVerdict
from tinyperf.submissions.model import Benchmark, ModeRun, Submitter, System, Tree
from tinyperf.submissions.recompute import Figure, Scored
from tinyperf.submissions.sww import SwwFigures

Key = tuple[str | None, ...]


@dataclass
class Hit:
    """One violation found by a kind: where, the message values, the evidence."""

    path: str
    values: dict[str, Any] = field(default_factory=dict)
    evidence: str = ""
    key: Key = ()
    severity: str | None = None  # overrides the rule's (e.g. "claim not verifiable")


@dataclass
class BenchFigures:
    """Recomputed figures of one benchmark folder."""

    throughput: Figure | None = None
    energy: Figure | None = None
    energy_throughput: Figure | None = None
    top1: Figure | None = None
    auc: Figure | None = None
    scored: Scored | None = None
    json_errors: list[str] = field(default_factory=list)
    sww: SwwFigures | None = None

    def target_metric(self, metric: str) -> Figure | None:
        return self.auc if metric == "auc" else self.top1


@dataclass
class Context:
    tree: Tree
    version: str
    settings: dict[str, Any]
    figures: dict[str, BenchFigures]
    division: str | None = None
    models: list[ModelVerdict] = field(default_factory=list)
    #: what rules derive from the whole tree, shared by the contexts of one check
    memo: dict[str, Any] = field(default_factory=dict)

    def submitters(self) -> list[Submitter]:
        return [s for s in self.tree.submitters if s.division == self.division]

    def bench_setting(self, name: str) -> dict[str, Any] | None:
        """Settings of a benchmark folder name (aliases resolved), None if unknown."""
        name = (self.settings.get("aliases") or {}).get(name, name)
        return (self.settings.get("benchmarks") or {}).get(name)

    def canonical(self, name: str) -> str:
        return (self.settings.get("aliases") or {}).get(name, name)

    def benchmarks(self, rule: Rule) -> Iterator[tuple[Submitter, System, Benchmark, Key]]:
        """Benchmarks of this division within the rule's scope."""
        scope = rule.scope
        if "divisions" in scope and self.division not in scope["divisions"]:
            return
        for sub in self.submitters():
            for system in sub.systems.values():
                for bench in system.benchmarks.values():
                    name = self.canonical(bench.name)
                    if ("benchmarks" in scope and name not in scope["benchmarks"]) or \
                            name in scope.get("skip_benchmarks", []):
                        continue
                    yield sub, system, bench, (sub.division, sub.name, system.name,
                                               bench.label)

    def modes(self, rule: Rule, mode: str) -> Iterator[tuple[Benchmark, ModeRun, Key]]:
        """The ``mode`` folder of every in-scope benchmark that has one."""
        for _sub, _sys, bench, key in self.benchmarks(rule):
            run = bench.modes.get(mode)
            if run is not None:
                yield bench, run, (*key, mode)
