"""Turn harness sessions into an MLPerf Tiny submission tree, check it, archive it.

The tree is exactly ``submission_rules.md`` §1.1 with literal benchmark names::

    <root>/tinyperf_package.json                  the round (version) of this tree
    <root>/<division>/<submitter>/README.md       template, to complete
    <root>/<division>/<submitter>/systems/<system>.json
    <root>/<division>/<submitter>/results/<system>/<benchmark>/<mode>/
        log.txt results.txt results.json [energy_inf_000.png ... (energy)]
    <root>/<division>/<submitter>/code/<benchmark>/<system>/
        manifest.json  model/<file>  firmware/<copy>   (``add_model`` / ``add_code``)

Mode folders hold the MLCommons runner's file set and nothing else (no journal, traffic
log, run.json: §1.6 "tinyperf packager output"). tinyperf's ``energy.json`` (per-window
energy, edges, uncertainty) goes into ``energy/`` next to results.txt only on request
(``energy_json=True``, ``tinyperf package add --energy-json``): the official checker never
file-lists a non-sww ``energy/`` folder, so it is silent about it, but our checker reports
any extra file in a mode folder as a TINY-LAYOUT-007 warning, and the official checker does
file-list the sww ``energy/`` folder, so for sww it is refused; ``code/`` follows the
documented ``code/<benchmark>/<implementation_id>/`` layout (§1.5) with the system name as
the implementation id. ``add`` never overwrites silently and is all-or-nothing: when one
session of a call is refused, nothing is written. A session is refused when the harness
marked it invalid, when it is not the runner's file set, when our own checker finds an
error in it (window count, window < 10 s, closed accuracy target, claims that do not
follow from the raw data, ...), when its DUT model is not the benchmark's or differs from
the other sessions of the benchmark, or when its DUT vendor/firmware differs from the
system's other sessions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tinyperf.formats.errors import ConformanceError
from tinyperf.submissions import systems_template as tpl
from tinyperf.submissions.archive import write_archive
from tinyperf.submissions.claims import mlc_identity

META = "tinyperf_package.json"
DIVISIONS = ("closed", "open")
#: Runner model id -> benchmark folder (``submission_rules.md`` §1.2).
BENCHMARK_OF_MODEL = {"ad01": "ad", "ic01": "ic", "ic02": "ic2", "kws01": "kws",
                      "vww01": "vww", "sww01": "sww"}
MODE_OF_CODE = {"p": "performance", "a": "accuracy", "e": "energy"}
RUNNER_FILES = ("log.txt", "results.txt", "results.json")
ENERGY_JSON = "energy.json"
#: Benchmarks whose ``energy/`` folder the official checker file-lists (an extra file there
#: is a "file list mismatch"): no energy.json for them.
FILE_LISTED_ENERGY = ("sww",)
_PNG = re.compile(r"^energy_inf_\d{3}\.png$")
#: Checker rules that judge the tree as a whole, not the one session being added.
_NOT_PER_SESSION = {"TINY-LAYOUT-005", "TINY-LAYOUT-009"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class Finding(Protocol):
    """What the packager reads of a checker finding."""

    rule_id: str
    severity: str
    message: str
    key: tuple[str, ...]
    waived: bool


class Report(Protocol):
    findings: list[Finding]


class Checker(Protocol):
    """The checker, as the packager needs it: the round's benchmarks and a tree's findings.

    The packager refuses what the checker would refuse, but the checker sits above it in
    the data flow (it reads submission trees), so the caller hands one in:
    ``tinyperf.rules.packaged.RuleChecker`` is the rule set's.
    """

    def benchmarks(self, version: str) -> Iterable[str]: ...

    def check(self, root: Path, version: str, reference_dir: Path | None,
              waive: Iterable[str]) -> Report: ...


class PackageError(ConformanceError):
    """The packager could not do what was asked (no tree, bad option, I/O)."""


class Refused(Exception):
    """One or more sessions (or files) were refused; nothing was written."""

    def __init__(self, refusals: list[tuple[str, list[str]]]):
        self.refusals = refusals
        text = "; ".join(f"{what}: {' / '.join(reasons)}" for what, reasons in refusals)
        super().__init__(f"refused: {text}")


# -- tree metadata -------------------------------------------------------------------------------


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_meta(root: Path) -> dict[str, Any]:
    path = Path(root) / META
    if not path.is_file():
        raise PackageError(f"{root} is not a package tree (no {META}); run 'tinyperf package "
                           "init' first")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"{path}: unreadable: {exc}") from exc
    if meta.get("version") not in tpl.VERSION_KEYS:
        raise PackageError(f"{path}: unknown version {meta.get('version')!r}")
    return meta


def _check_name(what: str, value: str) -> None:
    if not _NAME.match(value or ""):
        raise PackageError(f"{what} {value!r}: use letters, digits, '.', '_', '+', '-' "
                           "(no spaces or leading dot: the checker flags them)")


def init(root: Path, submitter: str, system: str, division: str, version: str = "v1.3",
         *, replace: bool = False) -> Path:
    """Write ``systems/<system>.json`` (every key of ``version``) and a README template.

    Returns the systems JSON path. An existing systems JSON is kept unless ``replace``.
    """
    root = Path(root)
    if division not in DIVISIONS:
        raise PackageError(f"division {division!r}: closed or open")
    if version not in tpl.VERSION_KEYS:
        raise PackageError(f"version {version!r}: one of {sorted(tpl.VERSION_KEYS)}")
    _check_name("submitter", submitter)
    _check_name("system", system)
    meta_path = root / META
    if meta_path.is_file():
        meta = read_meta(root)
        if meta["version"] != version:
            raise PackageError(f"{root} is a {meta['version']} tree; cannot add a {version} "
                               "system to it")
    else:
        write_json(meta_path, {"version": version, "tool": f"tinyperf "
                                                            f"{tpl.tinyperf_version()}"})
    sub = root / division / submitter
    path = sub / "systems" / f"{system}.json"
    if path.exists() and not replace:
        raise PackageError(f"{path} exists (use replace to overwrite it)")
    write_json(path, tpl.system_description(submitter, system, division, version))
    readme = sub / "README.md"
    systems = sorted(p.stem for p in (sub / "systems").glob("*.json"))
    if not readme.exists():
        readme.write_text(tpl.readme(submitter, division, version, systems), encoding="utf-8")
    return path


@dataclass(frozen=True)
class SystemRef:
    root: Path
    division: str
    submitter: str
    system: str
    version: str

    @property
    def sub_dir(self) -> Path:
        return self.root / self.division / self.submitter

    @property
    def json_path(self) -> Path:
        return self.sub_dir / "systems" / f"{self.system}.json"

    @property
    def results_dir(self) -> Path:
        return self.sub_dir / "results" / self.system

    def code_dir(self, benchmark: str) -> Path:
        return self.sub_dir / "code" / benchmark / self.system


def find_system(root: Path, system: str, division: str | None = None,
                submitter: str | None = None) -> SystemRef:
    """The one ``<division>/<submitter>/systems/<system>.json`` of the tree."""
    root = Path(root)
    meta = read_meta(root)
    hits = sorted(root.glob(f"*/*/systems/{system}.json"))
    hits = [h for h in hits if h.parts[-4] in DIVISIONS
            and (division is None or h.parts[-4] == division)
            and (submitter is None or h.parts[-3] == submitter)]
    if not hits:
        raise PackageError(f"no systems/{system}.json under {root}; run 'tinyperf package init "
                           f"--system {system}' first")
    if len(hits) > 1:
        where = ", ".join(f"{h.parts[-4]}/{h.parts[-3]}" for h in hits)
        raise PackageError(f"system {system} exists in several places ({where}); "
                           "give the division (and submitter)")
    h = hits[0]
    return SystemRef(root, h.parts[-4], h.parts[-3], system, meta["version"])


# -- sessions ------------------------------------------------------------------------------------


@dataclass
class SessionInfo:
    """What a session folder claims: mode, model, DUT identity, the files to submit."""

    path: Path
    mode: str | None = None
    model: str | None = None
    identity: dict[str, str] = field(default_factory=dict)  # vendor, firmware, model (log.txt)
    run_json: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def benchmark(self) -> str | None:
        return BENCHMARK_OF_MODEL.get(self.model or "")


def _log_identity(text: str) -> dict[str, str]:
    raw = mlc_identity(text)
    out = {"vendor": raw.get("name"), "firmware": raw.get("profile"), "model": raw.get("model")}
    return {k: v for k, v in out.items() if v}


def read_session(path: Path) -> SessionInfo:
    """Read a session folder (tinyperf's, or the MLCommons runner's without run.json)."""
    path = Path(path)
    info = SessionInfo(path)
    if not path.is_dir():
        info.problems.append("not a folder")
        return info
    missing = [n for n in RUNNER_FILES if not (path / n).is_file()]
    if missing:
        info.problems.append(f"not a complete session: missing {', '.join(missing)}")
    run_path = path / "run.json"
    if run_path.is_file():
        try:
            info.run_json = json.loads(run_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            info.problems.append(f"run.json unreadable: {exc}")
    rj = info.run_json or {}
    info.mode = rj.get("mode")
    info.model = rj.get("model")
    if (path / "log.txt").is_file():
        info.identity = _log_identity((path / "log.txt").read_text(encoding="utf-8",
                                                                    errors="replace"))
    if info.mode is None and (path / "results.json").is_file():
        try:
            recs = json.loads((path / "results.json").read_text(encoding="utf-8"))
            codes = {r.get("mode") for r in recs if isinstance(r, dict)}
            if len(codes) == 1:
                info.mode = MODE_OF_CODE.get(codes.pop())
        except (OSError, ValueError, AttributeError, TypeError):
            pass
    if info.model is None:
        info.model = info.identity.get("model")
    if info.mode not in MODE_OF_CODE.values():
        info.problems.append(f"cannot tell the run mode (run.json mode {info.mode!r})")
    if info.model is None:
        info.problems.append("cannot tell the model (no run.json model, no 'Device model "
                             "retrieved' line in log.txt)")
    elif info.benchmark is None:
        info.problems.append(f"model {info.model!r} is not an MLPerf Tiny benchmark model "
                             f"({', '.join(sorted(BENCHMARK_OF_MODEL))})")
    if info.model and info.identity.get("model") and info.identity["model"] != info.model:
        info.problems.append(f"run.json says model {info.model} but the DUT reported "
                             f"{info.identity['model']} in log.txt")
    rj_ident = rj.get("identity") or {}
    for key in ("vendor", "firmware"):
        a, b = rj_ident.get(key), info.identity.get(key)
        if a and b and a != b:
            info.problems.append(f"run.json identity {key} {a!r} differs from log.txt {b!r}")
    files = [n for n in RUNNER_FILES if (path / n).is_file()]
    if info.mode == "energy":
        pngs = sorted(p.name for p in path.iterdir() if _PNG.match(p.name))
        if not pngs:
            info.problems.append("energy session without energy_inf_NNN.png plots")
        files += pngs
    info.files = files
    return info


@dataclass
class Placement:
    session: Path
    system: str
    benchmark: str
    mode: str
    dest: Path
    replaced: bool = False
    warnings: list[str] = field(default_factory=list)


def _placed_identities(ref: SystemRef, skip: set[tuple[str, str]]
                       ) -> list[tuple[str, str, dict[str, str]]]:
    """(benchmark, mode, identity) of every session already placed for the system."""
    out = []
    if not ref.results_dir.is_dir():
        return out
    for bench in sorted(p for p in ref.results_dir.iterdir() if p.is_dir()):
        for mode in sorted(p for p in bench.iterdir() if p.is_dir()):
            if (bench.name, mode.name) in skip or not (mode / "log.txt").is_file():
                continue
            ident = _log_identity((mode / "log.txt").read_text(encoding="utf-8",
                                                                errors="replace"))
            out.append((bench.name, mode.name, ident))
    return out


def _gate(checker: Checker, ref: SystemRef, info: SessionInfo, benchmark: str, mode: str,
          reference_dir: Path | None, waive: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Errors (and warnings) our checker finds in the session placed alone in its folder.

    The session is staged in a temporary copy of the system (its systems JSON and the
    benchmark's other mode folders, except the one being replaced), then checked.
    """
    with tempfile.TemporaryDirectory(prefix="tinyperf-package-") as tmp:
        sub = Path(tmp) / ref.division / ref.submitter
        (sub / "systems").mkdir(parents=True)
        shutil.copyfile(ref.json_path, sub / "systems" / ref.json_path.name)
        bench_dir = sub / "results" / ref.system / benchmark
        existing = ref.results_dir / benchmark
        if existing.is_dir():
            for other in sorted(p for p in existing.iterdir() if p.is_dir() and p.name != mode):
                shutil.copytree(other, bench_dir / other.name)
        (bench_dir / mode).mkdir(parents=True)
        for name in info.files:
            shutil.copyfile(info.path / name, bench_dir / mode / name)
        report = checker.check(Path(tmp), ref.version, reference_dir, list(waive))
    prefix = (ref.division, ref.submitter, ref.system, benchmark)
    errors, warnings = [], []
    for f in report.findings:
        key = tuple(f.key)
        if key[:4] != prefix or (len(key) > 4 and key[4] != mode) or \
                f.rule_id in _NOT_PER_SESSION:
            continue
        line = f"{f.rule_id}: {f.message}"
        if f.waived:
            warnings.append(f"{line} (waived)")
        else:
            (errors if f.severity == "error" else warnings).append(line)
    return errors, warnings


def add(root: Path, sessions: Sequence[Path], system: str, replace: bool = False, *,
        division: str | None = None, submitter: str | None = None,
        benchmark: str | None = None, reference_dir: Path | None = None,
        waive: Iterable[str] = (), energy_json: bool = False,
        checker: Checker) -> list[Placement]:
    """Place each session's runner files into ``results/<system>/<benchmark>/<mode>/``.

    All-or-nothing: every session is validated first; if any is refused, ``Refused``
    (with every reason of every refused session) is raised and nothing is written.
    ``benchmark`` forces the folder (it must still be the session's model's benchmark).
    ``waive``: checker rule ids whose findings are kept as warnings instead of refusing
    (as ``tinyperf check --waive``); ``reference_dir``: label files for the scored-set and
    accuracy recomputation (none: those claims are reported unverifiable, not refused).
    ``energy_json``: also place each energy session's ``energy.json`` in its ``energy/``
    folder (refused for sww, whose ``energy/`` the official checker file-lists).
    ``checker``: the checker that gates each session (``RuleChecker()``).
    """
    ref = find_system(root, system, division, submitter)
    known = set(checker.benchmarks(ref.version))
    infos = [read_session(Path(s)) for s in sessions]
    if not infos:
        raise PackageError("no session given")
    refusals: list[tuple[str, list[str]]] = []
    planned: list[tuple[SessionInfo, str, str]] = []
    batch_keys: dict[tuple[str, str], Path] = {}
    replaced_keys = {(i.benchmark or "", i.mode or "") for i in infos} if replace else set()
    placed = _placed_identities(ref, replaced_keys)
    # the system's identity: what is already placed, else the first session of this call
    sys_ident = next((ident for _b, _m, ident in placed if ident.get("firmware")), None)
    for info in infos:
        reasons = list(info.problems)
        rj = info.run_json or {}
        if rj and rj.get("valid") is False:
            why = "; ".join(rj.get("reasons") or []) or "no reason recorded"
            reasons.append(f"the harness marked this run invalid: {why}")
        bench = info.benchmark
        mode = info.mode
        if energy_json and mode == "energy":
            reasons += _energy_json_problems(info, bench)
        if benchmark is not None and bench is not None and benchmark != bench:
            reasons.append(f"the DUT ran model {info.model} ({bench}), not a {benchmark} model: "
                           f"it cannot go into {benchmark}/")
        if bench is not None and bench not in known:
            reasons.append(f"{bench} is not a benchmark of {ref.version} "
                           f"({', '.join(sorted(known))})")
        if bench and mode:
            key = (bench, mode)
            if key in batch_keys:
                reasons.append(f"two sessions for {bench}/{mode} in one call "
                               f"(also {batch_keys[key]})")
            batch_keys.setdefault(key, info.path)
            dest = ref.results_dir / bench / mode
            if dest.exists() and not replace:
                reasons.append(f"{dest.relative_to(ref.root)} already exists "
                               "(use --replace to overwrite it on purpose)")
            # same DUT model as the benchmark's other sessions (placed or in this call)
            others = [(m, ident.get("model")) for b, m, ident in placed if b == bench]
            others += [(p.mode, p.model) for p, b, _m in planned if b == bench]
            for other_mode, other_model in others:
                if other_model and info.identity.get("model", info.model) != other_model:
                    reasons.append(f"DUT model {info.identity.get('model', info.model)} differs "
                                   f"from {bench}/{other_mode} ({other_model})")
        ident = {k: info.identity.get(k) for k in ("vendor", "firmware")}
        if sys_ident is not None:
            for k in ("vendor", "firmware"):
                if ident[k] and sys_ident.get(k) and ident[k] != sys_ident[k]:
                    reasons.append(f"DUT {k} {ident[k]!r} differs from the system's other "
                                   f"sessions ({sys_ident[k]!r}): a system is one board and "
                                   "one firmware")
        elif info.identity.get("firmware"):
            sys_ident = dict(info.identity)
        warnings: list[str] = []
        if not reasons and bench and mode:
            errors, warnings = _gate(checker, ref, info, bench, mode, reference_dir, waive)
            reasons += [f"checker: {e}" for e in errors]
        if reasons:
            refusals.append((str(info.path), reasons))
        else:
            planned.append((info, bench, mode))  # type: ignore[arg-type]
            info.problems = warnings  # carried to the placement
    if refusals:
        raise Refused(refusals)
    out = []
    for info, bench, mode in planned:
        out.append(_place(ref, info, bench, mode))
    return out


def _energy_json_problems(info: SessionInfo, bench: str | None) -> list[str]:
    """Why ``energy.json`` cannot go with this energy session (adds it to ``files`` if it can)."""
    if bench in FILE_LISTED_ENERGY:
        return [f"--energy-json: the official checker file-lists {bench}/energy/, so an "
                f"{ENERGY_JSON} there is a file list mismatch; add the session without it"]
    path = info.path / ENERGY_JSON
    if not path.is_file():
        return [f"--energy-json: the session has no {ENERGY_JSON}"]
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"--energy-json: {ENERGY_JSON} unreadable: {exc}"]
    if not isinstance(doc, dict) or not isinstance(doc.get("windows"), list):
        return [f"--energy-json: {ENERGY_JSON} has no 'windows' list"]
    if ENERGY_JSON not in info.files:
        info.files.append(ENERGY_JSON)
    return []


def _place(ref: SystemRef, info: SessionInfo, bench: str, mode: str) -> Placement:
    dest = ref.results_dir / bench / mode
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{mode}.", suffix=".part", dir=dest.parent))
    try:
        for name in info.files:
            shutil.copyfile(info.path / name, tmp / name)
        os.chmod(tmp, 0o755)
        replaced = dest.exists()
        if replaced:
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Placement(info.path, ref.system, bench, mode, dest, replaced, info.problems)


# -- models and code -----------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    from tinyperf.reference_models.registry import sha256_file
    return sha256_file(path)


def _manifest_path(ref: SystemRef, benchmark: str) -> Path:
    return ref.code_dir(benchmark) / "manifest.json"


def _load_manifest(ref: SystemRef, benchmark: str) -> dict[str, Any]:
    path = _manifest_path(ref, benchmark)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"system": ref.system, "benchmark": benchmark, "models": {}, "code": {}}


def _save_manifest(ref: SystemRef, benchmark: str, manifest: dict[str, Any]) -> Path:
    path = _manifest_path(ref, benchmark)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def add_model(root: Path, system: str, model_file: Path, *, model_id: str | None = None,
              benchmark: str | None = None, replace: bool = False,
              division: str | None = None, checker: Checker) -> dict[str, Any]:
    """Copy a model file to ``code/<benchmark>/<system>/model/`` and record its sha256.

    The record says whether the file is byte-identical to the registry's reference model
    of ``model_id`` (default: the benchmark's model). Returns the manifest entry.
    """
    from tinyperf.reference_models.registry import get_model

    ref = find_system(root, system, division)
    src = Path(model_file)
    if not src.is_file() or src.is_symlink():
        raise PackageError(f"{src}: not a regular file")
    _check_name("model file name", src.name)
    if benchmark is None and model_id is None:
        raise PackageError("give the model id (kws01, ad01, ...) or the benchmark")
    if benchmark is None:
        benchmark = BENCHMARK_OF_MODEL.get(model_id or "")
        if benchmark is None:
            raise PackageError(f"model id {model_id!r} is not a benchmark model")
    if benchmark not in set(checker.benchmarks(ref.version)):
        raise PackageError(f"{benchmark} is not a benchmark of {ref.version}")
    model_id = model_id or {v: k for k, v in BENCHMARK_OF_MODEL.items()}[benchmark]
    dest = ref.code_dir(benchmark) / "model" / src.name
    if dest.exists() and not replace:
        raise Refused([(str(src), [f"{dest.relative_to(ref.root)} already exists (use "
                                   "--replace to overwrite it on purpose)"])])
    digest = sha256_file(src)
    try:
        spec = get_model(model_id)
        ref_sha = spec.sha256
    except ConformanceError:
        ref_sha = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    entry = {"sha256": digest, "bytes": dest.stat().st_size, "model_id": model_id,
             "reference_sha256": ref_sha,
             "is_reference_model": ref_sha is not None and digest == ref_sha}
    manifest = _load_manifest(ref, benchmark)
    manifest["models"][f"model/{src.name}"] = entry
    _save_manifest(ref, benchmark, manifest)
    return entry


_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
_SKIP_DIRS = {"__pycache__", ".git", ".svn", ".hg"}
_SKIP_FILES = {".DS_Store", "Thumbs.db"}


def add_code(root: Path, system: str, *, url: str | None = None, commit: str | None = None,
             source: Path | None = None, benchmarks: Iterable[str] | None = None,
             replace: bool = False, division: str | None = None,
             checker: Checker) -> dict[str, Any]:
    """Record the firmware code: a pointer (``url`` + ``commit``) and/or a copy of ``source``.

    Goes to ``code/<benchmark>/<system>/`` for each benchmark (default: every benchmark
    already in ``results/<system>/``); a copy lands in ``firmware/`` with per-file sha256s.
    VCS folders, ``__pycache__`` and OS junk are left out (the checker rejects or warns on
    them); symbolic links are refused. Returns the ``code`` manifest record.
    """
    ref = find_system(root, system, division)
    if source is None and not url:
        raise PackageError("give a repository URL (+ commit) or a source folder to copy")
    if url and not re.match(r"^[a-z][a-z0-9+.-]*://\S+$|^git@\S+:\S+$", url):
        raise PackageError(f"{url!r} does not look like a repository URL")
    if url and not (commit and _COMMIT.match(commit)):
        raise PackageError("a code pointer needs the commit (hex hash, 7-64 digits)")
    bench_list = sorted(benchmarks) if benchmarks else sorted(
        p.name for p in ref.results_dir.iterdir() if p.is_dir()) if ref.results_dir.is_dir() \
        else []
    if not bench_list:
        raise PackageError("no benchmark to attach the code to (add sessions first or give "
                           "--benchmark)")
    known = set(checker.benchmarks(ref.version))
    for b in bench_list:
        if b not in known:
            raise PackageError(f"{b} is not a benchmark of {ref.version}")
    files: list[tuple[str, Path]] = []
    skipped: list[str] = []
    if source is not None:
        source = Path(source)
        if not source.is_dir():
            raise PackageError(f"{source}: not a folder")
        for cur, dirs, names in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(names):
                p = Path(cur) / name
                rel = p.relative_to(source).as_posix()
                if p.is_symlink():
                    raise Refused([(str(p), ["symbolic link: the checker rejects submitters "
                                             "holding links; copy the target instead"])])
                if name in _SKIP_FILES or name.startswith("._") or not p.is_file():
                    skipped.append(rel)
                    continue
                files.append((rel, p))
        if not files:
            raise PackageError(f"{source}: no files to copy")
    record: dict[str, Any] = {}
    if url:
        record["repository"] = url
        record["commit"] = commit
    for b in bench_list:
        fw = ref.code_dir(b) / "firmware"
        manifest = _load_manifest(ref, b)
        if manifest.get("code") and not replace:
            raise Refused([(f"code/{b}/{system}", ["code already recorded (use --replace)"])])
        if source is not None:
            if fw.exists():
                shutil.rmtree(fw)
            sums = {}
            for rel, p in files:
                dest = fw / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest)
                sums[f"firmware/{rel}"] = sha256_file(dest)
            record = {**record, "copy": "firmware/", "files": sums}
        manifest["code"] = record
        _save_manifest(ref, b, manifest)
    return {**record, "benchmarks": bench_list, "skipped": skipped}


# -- archive, demo values ---------------------------------------------------------------------


def archive(root: Path, out: Path) -> dict[str, str]:
    """Reproducible ``out`` (.tar.gz) of the tree's division folders under a ``<version>/``
    top folder (so ``tinyperf check`` picks the round), with ``MANIFEST.sha256``.
    Returns {member path: sha256}."""
    root = Path(root)
    version = read_meta(root)["version"]
    divisions = [d for d in DIVISIONS if (root / d).is_dir()]
    if not divisions:
        raise PackageError(f"{root}: nothing to archive (no closed/ or open/)")
    out = Path(out)
    if out.resolve().is_relative_to(root.resolve()):
        raise PackageError(f"{out}: write the archive outside the tree")
    return write_archive(root, out, divisions, prefix=version)


def demo_system_values() -> dict[str, str]:
    """Systems-JSON values describing tinyperf's virtual DUT (what the demo ran on)."""
    na = "N/A (virtual DUT)"
    values = {k: na for k in tpl.TEMPLATE_KEYS}
    values.update({
        "Status": "rdi",
        "Board Name": "tinyperf virtual DUT (simulated board)",
        "SoC Name": "none (host process)", "Processor(s) Name": "host CPU (simulated clock)",
        "Processor(s) Frequencies": "simulated: 23.0 inf/s kws01, 99.5 inf/s ad01",
        "Accelerator": "none", "Hardware Notes": "pipeline check, not a measurement",
        "Inference Framework": "TensorFlow Lite interpreter (reference kernels)",
        "Software Libraries": "tflite-runtime", "Operating System ": "Linux host",
        "Operating System": "Linux host", "Quantization Method": "reference int8 models",
        "Training framework (open division)": "none (reference models)",
        "Training and Quantization Notes": "", "ML Model Compiler(s)": "none",
        "General Compiler(s)": "none",
    })
    for k in ("Submitter", "Division", "Other Software Stack", "Software Notes",
              "Other Software"):
        values.pop(k, None)
    return values
