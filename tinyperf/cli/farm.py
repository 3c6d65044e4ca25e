"""``tinyperf farm``: run a matrix of jobs over many boards on many hosts (labgrid places).

    tinyperf farm run MATRIX.yaml --coordinator HOST:PORT [--parallel N] [--output-dir D]
    tinyperf farm run MATRIX.yaml --place-file places.yaml ...
    tinyperf farm run --resume D
    tinyperf farm package D --submitter ACME --division closed [--root submission]
    tinyperf farm status --coordinator HOST:PORT | --place-file places.yaml

Exit codes: 0 every job valid, 1 some job failed or is not valid (a table says why), 2 the
tool could not do its job.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyperf.cli import options as o

if TYPE_CHECKING:
    from tinyperf.farm.places import PlaceSource
    from tinyperf.farm.scheduler import FarmResult


def _source_options(q: argparse.ArgumentParser) -> None:
    q.add_argument("--coordinator", metavar="HOST:PORT",
                   help="labgrid coordinator (gRPC, labgrid >= 24)")
    q.add_argument("--place-file", type=Path, metavar="YAML",
                   help="places without a coordinator: name -> port URLs (and tags)")
    q.add_argument("--labgrid-python", metavar="PATH",
                   help="Python of the venv that has labgrid (default: $TINYPERF_LABGRID_PYTHON, "
                        "labgrid-client's venv, ./.venv-farm)")


def register(subparsers: Any) -> None:
    p = o.add_parser(
        subparsers, "farm", help="run a matrix of jobs on many boards (labgrid places)",
        description="Board farm: run a matrix of benchmark jobs over labgrid places (or a "
                    "place file), in parallel, journaled and resumable; package the result.",
        example=("tinyperf farm status --coordinator lab-server:20408",
                 "tinyperf farm run matrix.yaml --coordinator lab-server:20408 "
                 "--output-dir farm-run",
                 "tinyperf farm run --resume farm-run",
                 "tinyperf farm package farm-run --submitter ACME --division closed"))
    sub = p.add_subparsers(dest="farm_command", metavar="ACTION")
    sub.required = True

    q = o.add_parser(sub, "run", help="run the matrix's jobs, one per place at a time",
                     example=("tinyperf farm run matrix.yaml --coordinator 127.0.0.1:20408",
                              "tinyperf farm run matrix.yaml --place-file places.yaml "
                              "--parallel 2",
                              "tinyperf farm run --resume farm-run"))
    q.add_argument("matrix", nargs="?", type=Path, metavar="MATRIX_YAML")
    _source_options(q)
    q.add_argument("--parallel", type=int, metavar="N",
                   help="at most N places at once (default: every place)")
    o.add_output_dir(q, default=None, help="farm run folder (default ./farm-<timestamp>)")
    q.add_argument("--resume", type=Path, metavar="DIR",
                   help="rerun the unfinished and failed jobs of the farm run in DIR")
    q.set_defaults(handler=_run)

    q = o.add_parser(sub, "package", help="merge every valid session into one submission tree",
                     example=("tinyperf farm package farm-run --submitter ACME "
                              "--division closed --root submission",))
    q.add_argument("run_dir", type=Path, metavar="DIR")
    q.add_argument("--submitter", required=True)
    q.add_argument("--division", required=True, choices=("closed", "open"))
    o.add_round(q, default="v1.3", help="round (default v1.3)")
    q.add_argument("--root", type=Path, default=None, metavar="DIR",
                   help="submission tree (default DIR/submission)")
    q.add_argument("--system-values", type=Path, metavar="YAML",
                   help="systems JSON fields: {default: {...}, <system>: {...}}")
    o.add_waive(q)
    o.add_reference_dir(q, "TINYPERF_REFERENCE_DIR")
    q.set_defaults(handler=_package)

    q = o.add_parser(sub, "status", help="list the places and who holds them",
                     example=("tinyperf farm status --coordinator 127.0.0.1:20408",))
    _source_options(q)
    q.set_defaults(handler=_status)


def _source(args: argparse.Namespace) -> PlaceSource:
    from tinyperf.farm.coordinator import LabgridCoordinator
    from tinyperf.farm.places import PlaceFile
    from tinyperf.formats.errors import ConfigError

    if bool(args.coordinator) == bool(args.place_file):
        raise ConfigError("give exactly one of --coordinator HOST:PORT or --place-file YAML")
    if args.place_file:
        return PlaceFile(args.place_file)
    return LabgridCoordinator(args.coordinator, python=args.labgrid_python)


def _printer() -> Any:
    lock = threading.Lock()

    def on_event(place: str, message: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        with lock:
            print(f"{stamp} [{place}] {message}", flush=True)

    return on_event


def _prepare(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The run folder and its settings: new (matrix given) or from ``--resume``."""
    from tinyperf.farm import journal
    from tinyperf.formats.errors import ConfigError

    if args.resume is not None:
        settings = journal.read_settings(args.resume)
        for key in ("coordinator", "place_file", "labgrid_python", "parallel"):
            given = getattr(args, key)
            if given is not None:  # ports and hosts may change between runs
                settings[key] = str(given) if isinstance(given, Path) else given
        if args.coordinator or args.place_file:
            settings["coordinator" if args.place_file else "place_file"] = None
        journal.write_settings(args.resume, settings)
        return args.resume, settings
    if args.matrix is None:
        raise ConfigError("give a MATRIX_YAML, or --resume DIR")
    root = args.output_dir or Path(f"farm-{datetime.now():%Y%m%d_%H%M%S}")
    if (root / journal.SETTINGS).exists():
        raise ConfigError("already a farm run folder: use --resume, or another --output-dir",
                          path=root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.matrix, root / journal.MATRIX_COPY)
    settings = {"matrix": str((root / journal.MATRIX_COPY).resolve()),
                "base": str(args.matrix.resolve().parent),
                "coordinator": args.coordinator,
                "place_file": str(args.place_file.resolve()) if args.place_file else None,
                "labgrid_python": args.labgrid_python, "parallel": args.parallel}
    journal.write_settings(root, settings)
    return root, settings


def _run(args: argparse.Namespace) -> int:
    from tinyperf.farm import journal
    from tinyperf.farm.matrix import load_matrix
    from tinyperf.farm.scheduler import Farm

    if args.matrix is None and args.resume is None:
        from tinyperf.formats.errors import ConfigError
        raise ConfigError("give a MATRIX_YAML, or --resume DIR")
    if args.matrix is not None:
        load_matrix(args.matrix)  # bad matrix: fail before creating anything
    root, settings = _prepare(args)
    jobs = load_matrix(Path(settings["matrix"]), Path(settings["base"]))
    states = journal.FarmJournal(root).states()
    todo = set(journal.pending([j.id for j in jobs], states))
    for job in jobs:
        if job.id not in todo:
            print(f"[{states[job.id].place}] {job.id}: done earlier, kept")
    args.coordinator, args.place_file = settings.get("coordinator"), settings.get("place_file")
    args.labgrid_python = settings.get("labgrid_python")
    source = _source(args)
    print(f"farm run {root}: {len(todo)} job(s) over {source.describe()}", flush=True)
    farm = Farm([j for j in jobs if j.id in todo], source, root,
                parallel=settings.get("parallel"), on_event=_printer())
    result = farm.run()
    return _summary(root, result)


def _summary(root: Path, result: FarmResult) -> int:
    failed = result.failed
    ok = len(result.outcomes) - len(failed)
    print(f"\n{ok} of {len(result.outcomes)} job(s) valid; folder {root}")
    if not failed:
        return 0
    print(f"{'job':<28} {'place':<14} {'state':<12} why")
    for job, (place, outcome) in failed.items():
        print(f"{job:<28} {place or '-':<14} {outcome.state:<12} {outcome.reason or ''}")
    print(f"\nrerun what did not finish: tinyperf farm run --resume {root}")
    return 1


def _package(args: argparse.Namespace) -> int:
    import os

    from tinyperf.farm.package import package_farm
    from tinyperf.rules.render import text

    ref = args.reference_dir or (Path(os.environ["TINYPERF_REFERENCE_DIR"])
                                 if os.environ.get("TINYPERF_REFERENCE_DIR") else None)
    root = args.root or args.run_dir / "submission"
    out = package_farm(args.run_dir, root, submitter=args.submitter, division=args.division,
                       version=args.round, values_file=args.system_values,
                       reference_dir=ref, waive=args.waive)
    for system, sessions in out.placed.items():
        print(f"system {system}: {len(sessions)} session(s) placed")
    for job, why in out.skipped:
        print(f"left out {job}: {why}")
    for what, reasons in out.refused:
        print(f"REFUSED {what}: {'; '.join(reasons)}")
    sys.stdout.write(text(out.report))
    return 0 if out.report.ok and not out.refused else 1


def _status(args: argparse.Namespace) -> int:
    source = _source(args)
    places = source.places()
    print(f"{len(places)} place(s) at {source.describe()}")
    print(f"{'place':<16} {'held by':<20} {'tags':<24} resources")
    for p in places:
        tags = ",".join(f"{k}={v}" for k, v in sorted(p.tags.items())) or "-"
        res = ", ".join(f"{r.name}{'' if r.avail else ' (unavailable)'}"
                        f"{'@' + r.host if r.host else ''}" for r in p.resources.values())
        print(f"{p.name:<16} {p.holder or 'free':<20} {tags:<24} {res or 'none'}")
    return 0
