"""``farm package``: every valid session of a farm run into one submission tree, checked.

One system per place (or per the matrix's ``system:``): the sessions a place produced go to
``results/<system>/...`` through the packager, which refuses what the checker would refuse;
then the whole tree is checked. Systems JSON fields come from ``--system-values`` (a YAML
mapping: ``default:`` for every system, then one mapping per system name).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.farm.journal import FarmJournal, read_settings
from tinyperf.farm.matrix import load_matrix
from tinyperf.formats.errors import ConfigError
from tinyperf.formats.yamlfile import load_yaml


@dataclass
class FarmPackage:
    """What was placed, what was refused, and the checker's report."""

    root: Path
    placed: dict[str, list[Path]] = field(default_factory=dict)
    refused: list[tuple[str, list[str]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    report: Any = None


def sessions_by_system(run_dir: Path) -> tuple[dict[str, list[Path]], list[tuple[str, str]]]:
    """Valid sessions of a farm run grouped by system, and the jobs left out with why."""
    settings = read_settings(run_dir)
    jobs = {j.id: j for j in load_matrix(Path(settings["matrix"]), Path(settings["base"]))}
    groups: dict[str, list[Path]] = {}
    skipped = []
    for job_id, state in FarmJournal(run_dir).states().items():
        job = jobs.get(job_id)
        if job is None:
            continue
        if state.state != "done" or not state.session:
            skipped.append((job_id, f"{state.state}: {state.reason or 'not finished'}"))
            continue
        system = job.system or state.place
        assert system is not None
        groups.setdefault(system, []).append(Path(state.session))
    return groups, skipped


def system_values(path: Path | None, system: str) -> dict[str, Any]:
    """Systems-JSON values for ``system`` from a ``--system-values`` file."""
    if path is None:
        return {}
    doc = load_yaml(path, "system values file") or {}
    if not isinstance(doc, dict):
        raise ConfigError("must be a mapping (default: {...}, <system>: {...})", path=path)
    values: dict[str, Any] = {}
    for key in ("default", system):
        part = doc.get(key) or {}
        if not isinstance(part, dict):
            raise ConfigError("must be a mapping of systems JSON fields", path=path, key=key)
        values.update(part)
    return values


def package_farm(run_dir: Path, root: Path, *, submitter: str, division: str,
                 version: str = "v1.3", values_file: Path | None = None,
                 reference_dir: Path | None = None, waive: Iterable[str] = ()) -> FarmPackage:
    """Package the farm run in ``run_dir`` into the submission tree ``root`` and check it."""
    from tinyperf.rules.packaged import RuleChecker, check_packaged
    from tinyperf.submissions.package import Refused, add, find_system, init, write_json

    groups, skipped = sessions_by_system(run_dir)
    if not groups:
        raise ConfigError("no valid session to package (see `tinyperf farm run` output)",
                          path=run_dir)
    out = FarmPackage(Path(root), skipped=skipped)
    waive = list(waive)
    for system, sessions in sorted(groups.items()):
        ref_json = Path(root) / division / submitter / "systems" / f"{system}.json"
        if not ref_json.exists():
            init(root, submitter, system, division, version)
        ref = find_system(root, system, division, submitter)
        doc = json.loads(ref.json_path.read_text(encoding="utf-8"))
        doc.update(system_values(values_file, system))
        write_json(ref.json_path, doc)
        for session in sessions:  # one at a time: a refused session does not block the rest
            try:
                add(root, [session], system, replace=True, division=division,
                    submitter=submitter, reference_dir=reference_dir, waive=waive,
                    checker=RuleChecker())
                out.placed.setdefault(system, []).append(session)
            except Refused as exc:
                out.refused += exc.refusals
    out.report = check_packaged(root, reference_dir=reference_dir, waive=waive)
    return out
