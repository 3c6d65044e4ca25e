"""``tinyperf package``: build an MLPerf Tiny submission tree from sessions, check, archive.

    tinyperf package init --submitter ACME --system BOARD --division closed [--round v1.3]
    tinyperf package add SESSION_DIR ... --system BOARD [--replace]
    tinyperf package add-model MODEL.tflite --system BOARD --model-id kws01
    tinyperf package add-code --system BOARD (--url URL --commit SHA | --source DIR)
    tinyperf package check
    tinyperf package archive -o FILE.tar.gz

Every subcommand takes ``--root DIR`` (default: the current folder). Exit codes: 0 ok,
1 refused or not valid (the reasons are printed), 2 the tool could not do its job.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinyperf.cli import options as o

REFERENCE_ENV = "TINYPERF_REFERENCE_DIR"


def register(subparsers: Any) -> None:
    p = o.add_parser(
        subparsers, "package", help="turn sessions into a submission tree, check it, archive it",
        description="Build an MLPerf Tiny submission tree "
                    "(<division>/<submitter>/{systems,results,code}) from tinyperf sessions. "
                    "Every action takes --root DIR (default: the current folder).",
        example=("tinyperf package init --submitter ACME --system BOARD --division closed "
                 "--round v1.3",
                 "tinyperf package add sessions/* --system BOARD",
                 "tinyperf package check",
                 "tinyperf package archive -o submission.tar.gz"))
    sub = p.add_subparsers(dest="package_command", metavar="ACTION")
    sub.required = True

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                       help="the submission tree (default: current folder)")

    def where(q: argparse.ArgumentParser) -> None:
        q.add_argument("--system", required=True, help="system name (systems/<system>.json)")
        q.add_argument("--division", choices=("closed", "open"),
                       help="needed only when the system exists in both divisions")

    q = o.add_parser(sub, "init", help="write systems/<system>.json and a README template",
                     example=("tinyperf package init --submitter ACME --system BOARD "
                              "--division closed --round v1.3 --root submission",))
    common(q)
    q.add_argument("--submitter", required=True)
    q.add_argument("--system", required=True)
    q.add_argument("--division", required=True, choices=("closed", "open"))
    o.add_round(q, default="v1.3", help="round (default v1.3)")
    q.add_argument("--replace", action="store_true", help="overwrite an existing systems JSON")
    q.set_defaults(handler=_init)

    q = o.add_parser(sub, "add", help="place session folders into results/<system>/...",
                     example=("tinyperf package add sessions/20260101_120000 "
                              "sessions/20260101_121500 --system BOARD",
                              "tinyperf package add sessions/* --system BOARD --replace "
                              "--waive TINY-PERF-006"))
    common(q)
    q.add_argument("sessions", nargs="+", type=Path, metavar="SESSION_DIR")
    where(q)
    q.add_argument("--replace", action="store_true",
                   help="overwrite mode folders that already exist (never done silently)")
    q.add_argument("--benchmark", help="expected benchmark folder (refused if the DUT model "
                                       "is not that benchmark's)")
    o.add_waive(q, help="a checker rule id reported as a warning instead of refusing "
                        "(repeat the option for more ids)")
    q.add_argument("--energy-json", action="store_true",
                   help="also place an energy session's energy.json in energy/ (not for "
                        "sww; our checker notes it as an extra file)")
    _reference(q)
    q.set_defaults(handler=_add)

    q = o.add_parser(sub, "add-model", help="place a model file and record its sha256",
                     example=("tinyperf package add-model kws_ref_model.tflite --system BOARD "
                              "--model-id kws01",))
    common(q)
    q.add_argument("model", type=Path, metavar="MODEL_FILE")
    where(q)
    o.add_model_id(q, help="kws01, ad01, ... (default: from --benchmark)")
    q.add_argument("--benchmark", help="kws, ad, ic, vww, ...")
    q.add_argument("--replace", action="store_true")
    q.set_defaults(handler=_add_model)

    q = o.add_parser(sub, "add-code", help="record the firmware code: URL + commit, or a copy",
                     example=("tinyperf package add-code --system BOARD --url "
                              "https://example.com/fw.git --commit 0123abc",
                              "tinyperf package add-code --system BOARD --source firmware/ "
                              "--benchmark kws ad"))
    common(q)
    where(q)
    q.add_argument("--url", help="repository URL")
    q.add_argument("--commit", help="commit hash of the firmware that was run")
    q.add_argument("--source", type=Path, help="folder to copy into code/<bench>/<system>/")
    q.add_argument("--benchmark", nargs="+", help="default: every benchmark of the system")
    q.add_argument("--replace", action="store_true")
    q.set_defaults(handler=_add_code)

    q = o.add_parser(sub, "check", help="run the checker on the tree",
                     example=("tinyperf package check --root submission",
                              "tinyperf package check --format json --waive TINY-ACC-003"))
    common(q)
    q.add_argument("--format", choices=("text", "json", "csv"), default="text")
    o.add_waive(q)
    _reference(q)
    q.set_defaults(handler=_check)

    q = o.add_parser(sub, "archive", help="write a reproducible .tar.gz with MANIFEST.sha256",
                     example=("tinyperf package archive --root submission -o "
                              "submission.tar.gz",))
    common(q)
    o.add_output_file(q, required=True, help="the .tar.gz to write")
    q.set_defaults(handler=_archive)


def _reference(q: argparse.ArgumentParser) -> None:
    o.add_reference_dir(q, REFERENCE_ENV)


def _ref_dir(args: argparse.Namespace) -> Path | None:
    from tinyperf.formats.errors import ConfigError

    ref = args.reference_dir or (Path(os.environ[REFERENCE_ENV])
                                 if os.environ.get(REFERENCE_ENV) else None)
    if ref is not None and not ref.is_dir():
        raise ConfigError("reference folder not found", path=ref, key="--reference-dir")
    return ref


def _checker() -> Any:
    from tinyperf.rules.packaged import RuleChecker
    return RuleChecker()


def _refused(exc: Exception) -> int:
    from tinyperf.submissions.package import Refused

    assert isinstance(exc, Refused)
    print("REFUSED (nothing was written):", file=sys.stderr)
    for what, reasons in exc.refusals:
        print(f"  {what}", file=sys.stderr)
        for r in reasons:
            print(f"    - {r}", file=sys.stderr)
    return 1


def _init(args: argparse.Namespace) -> int:
    from tinyperf.submissions import package

    path = package.init(args.root, args.submitter, args.system, args.division, args.round,
                        replace=args.replace)
    print(f"wrote {path}")
    print(f"wrote {path.parent.parent / 'README.md'} (if it did not exist)")
    print("fill in every field marked 'FILL ME' (board, SoC, frequencies, memory, compiler, "
          "Status); 'tinyperf package check' lists what is left")
    return 0


def _add(args: argparse.Namespace) -> int:
    from tinyperf.submissions import package

    try:
        placed = package.add(args.root, args.sessions, args.system, args.replace,
                             division=args.division, benchmark=args.benchmark,
                             reference_dir=_ref_dir(args), waive=args.waive,
                             energy_json=args.energy_json, checker=_checker())
    except package.Refused as exc:
        return _refused(exc)
    for p in placed:
        verb = "replaced" if p.replaced else "added"
        print(f"{verb} {p.dest.relative_to(Path(args.root))}  <-  {p.session}")
        for w in p.warnings:
            print(f"    note: {w}")
    return 0


def _add_model(args: argparse.Namespace) -> int:
    from tinyperf.submissions import package

    try:
        entry = package.add_model(args.root, args.system, args.model, model_id=args.model_id,
                                  benchmark=args.benchmark, replace=args.replace,
                                  division=args.division, checker=_checker())
    except package.Refused as exc:
        return _refused(exc)
    same = "identical to the reference model" if entry["is_reference_model"] else \
        "NOT the reference model file"
    print(f"model {args.model.name}: sha256 {entry['sha256']} ({same})")
    return 0


def _add_code(args: argparse.Namespace) -> int:
    from tinyperf.submissions import package

    try:
        rec = package.add_code(args.root, args.system, url=args.url, commit=args.commit,
                               source=args.source, benchmarks=args.benchmark,
                               replace=args.replace, division=args.division,
                               checker=_checker())
    except package.Refused as exc:
        return _refused(exc)
    what = f"{rec.get('repository')} @ {rec.get('commit')}" if rec.get("repository") else ""
    if rec.get("files"):
        what += f"{' + ' if what else ''}{len(rec['files'])} file(s) copied"
    print(f"code for {', '.join(rec['benchmarks'])}: {what}")
    if rec["skipped"]:
        print(f"  left out: {', '.join(rec['skipped'])}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from tinyperf.rules import render
    from tinyperf.rules.packaged import check_packaged

    report = check_packaged(args.root, _ref_dir(args), args.waive)
    sys.stdout.write(render.RENDERERS[args.format](report))
    return 0 if report.ok else 1


def _archive(args: argparse.Namespace) -> int:
    from tinyperf.submissions import package

    sums = package.archive(args.root, args.output)
    print(f"wrote {args.output}: {len(sums)} files + MANIFEST.sha256")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tinyperf.cli.package ACTION ...`` (same as ``tinyperf package``)."""
    from tinyperf.cli.main import main as tinyperf_main

    try:
        return tinyperf_main(["package", *(sys.argv[1:] if argv is None else argv)])
    except OSError as exc:
        print(f"tinyperf: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
