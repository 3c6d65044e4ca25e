"""The built wheel installs and works on every supported Python, outside the checkout.

The wheel is built once from a copy of the repository; for each of Python 3.10-3.13 found on
the machine (pyenv versions or ``python3.X`` on PATH; absent ones skip, naming the version) a
fresh venv gets ``pip install WHEEL`` with its dependencies from the index (the pip cache is
reused). From a temporary folder, with nothing of the checkout on ``sys.path``:

* ``import tinyperf`` comes from the venv and has the version of ``tinyperf/__init__.py``;
* smoke: ``tinyperf sim`` + a performance run + an accuracy run on the installed demo data,
  packaged into a small open-division tree that ``tinyperf check`` finds valid;
* ``tinyperf demo --models kws01 --no-energy`` and the README's Python API example.

The smoke runs and the demo need the reference ``.tflite`` models (``TINYPERF_REFERENCE_DIR``,
passed through to the venv); without them those tests skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
INSTALL_TIMEOUT = 900  # a cold pip cache downloads ~150 MB of wheels per interpreter
RUN_TIMEOUT = 300


def _expected_version() -> str:
    text = (REPO / "tinyperf" / "__init__.py").read_text()
    return re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M).group(1)


def _find_python(version: str) -> Path | None:
    """The newest pyenv ``version.N`` build, else ``pythonX.Y`` on PATH."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    builds = []
    for d in root.glob(f"{version}.*"):
        m = re.fullmatch(re.escape(version) + r"\.(\d+)", d.name)
        if m and (d / "bin" / "python3").is_file():
            builds.append((int(m.group(1)), d / "bin" / "python3"))
    if builds:
        return max(builds)[1]
    found = shutil.which(f"python{version}")
    return Path(found) if found else None


PYTHONS = {v: _find_python(v) for v in VERSIONS}


def _env(venv: Path) -> dict[str, str]:
    """The environment of a user of the venv: nothing of the checkout on the path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONUNBUFFERED"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = RUN_TIMEOUT
         ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n"
                    f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "demo_sessions", "sessions",
        ".pytest_cache", ".ruff_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}")
    [whl] = (tmp / "dist").glob("tinyperf-*.whl")
    return whl


class Installed:
    """A fresh venv of one interpreter with the wheel installed, and a folder outside the
    checkout to work in."""

    def __init__(self, version: str, venv: Path, work: Path, seconds: float) -> None:
        self.version, self.venv, self.work, self.install_seconds = version, venv, work, seconds
        self.env = _env(venv)
        self.python = venv / "bin" / "python"
        self.tinyperf = venv / "bin" / "tinyperf"

    def run(self, *args: object, timeout: float = RUN_TIMEOUT,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _run([*args], cwd or self.work, self.env, timeout)

    def py(self, code: str) -> str:
        return self.run(self.python, "-c", code).stdout.strip()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory):
    """``installed(version)``: the venv for that interpreter, made once per module."""
    cache: dict[str, Installed | str] = {}

    def get(version: str) -> Installed:
        python = PYTHONS[version]
        if python is None:
            pytest.skip(f"Python {version} not found (no pyenv {version}.* build, "
                        f"no python{version} on PATH)")
        if version not in cache:
            cache[version] = _install(version, python, wheel, tmp_path_factory)
        got = cache[version]
        if isinstance(got, str):
            pytest.fail(got)
        return got

    return get


def _install(version: str, python: Path, wheel: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Installed | str:
    base = tmp_path_factory.mktemp(f"py{version}")
    venv, work = base / "venv", base / "work"
    work.mkdir()
    t0 = time.monotonic()
    proc = subprocess.run([str(python), "-m", "venv", str(venv)], capture_output=True,
                          text=True, timeout=300, cwd=work)
    if proc.returncode != 0:
        pytest.skip(f"Python {version} ({python}) cannot make a venv: {proc.stderr.strip()}")
    env = _env(venv)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                           str(wheel)], capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT, cwd=work, env=env)
    if proc.returncode != 0:
        return (f"pip install {wheel.name} failed on Python {version}:\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return Installed(version, venv, work, time.monotonic() - t0)


@contextmanager
def _sim(inst: Installed, model: str) -> Iterator[str]:
    """``tinyperf sim --model-id MODEL`` running; yields the pty it prints (``link: …``)."""
    log = inst.work / f"sim_{model}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(inst.tinyperf), "sim", "--model-id", model],
                                cwd=inst.work, env=inst.env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            m = re.search(r"^link: (\S+)", log.read_text(), re.M)
            if m:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tinyperf sim printed no link (exit {proc.poll()}):\n"
                            f"{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield m.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _sessions(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


@pytest.mark.timeout(INSTALL_TIMEOUT + 600)
@pytest.mark.parametrize("version", VERSIONS)
def test_wheel_installs_and_imports_outside_checkout(installed, version: str) -> None:
    inst = installed(version)
    assert inst.py("import sys; print('%d.%d' % sys.version_info[:2])") == version
    where = inst.py("import sys, tinyperf; print(tinyperf.__file__); print(sys.path)")
    module_file, sys_path = where.splitlines()
    assert Path(module_file).resolve().is_relative_to(inst.venv.resolve()), module_file
    assert str(REPO) not in sys_path
    assert inst.py("import tinyperf; print(tinyperf.__version__)") == _expected_version()
    # the TFLite runtime the virtual DUT and `models evaluate` need, on every interpreter
    inst.py("import ai_edge_litert.interpreter")
    inst.py("import pyjls")
    if "--version" in inst.run(inst.tinyperf, "--help").stdout:
        out = inst.run(inst.tinyperf, "--version").stdout
        assert _expected_version() in out, out


@pytest.mark.timeout(INSTALL_TIMEOUT + 600)
@pytest.mark.parametrize("version", VERSIONS)
def test_smoke_sim_perf_accuracy_check(installed, version: str, reference_dir: Path) -> None:
    inst = installed(version)
    inst.env["TINYPERF_REFERENCE_DIR"] = str(reference_dir)
    data = Path(inst.py("from tinyperf.reference_models.demo import demo_data_dir; "
                        "print(demo_data_dir())"))
    assert data.resolve().is_relative_to(inst.venv.resolve()), data
    sessions = inst.work / "S"
    with _sim(inst, "kws01") as link:
        perf = inst.run(inst.tinyperf, "run", "--port", link, "--mode", "performance",
                        "--iterations", "auto", "--dataset-path", data, "--output-dir",
                        sessions, "--no-progress")
        acc = inst.run(inst.tinyperf, "run", "--port", link, "--mode", "accuracy",
                       "--dataset-path", data, "--output-dir", sessions, "--no-progress")
    assert "VALID" in perf.stdout, perf.stdout
    assert "Top 1% = 77.5" in acc.stdout, acc.stdout
    runs = _sessions(sessions)
    assert len(runs) == 2 and all((r / "results.txt").is_file() for r in runs), runs

    # a small open-division tree; the demo labels are the reference of the demo inputs
    tree = inst.work / "T"
    inst.run(inst.tinyperf, "package", "init", "--root", tree, "--submitter", "ACME",
             "--system", "BOARD", "--division", "open")
    inst.run(inst.tinyperf, "package", "add", *runs, "--root", tree, "--system", "BOARD",
             "--reference-dir", data)
    systems = tree / "open" / "ACME" / "systems" / "BOARD.json"
    fields = json.loads(systems.read_text())
    for key, value in fields.items():
        if isinstance(value, str) and value.startswith("FILL ME"):
            fields[key] = "available" if key == "Status" else "n/a"
    systems.write_text(json.dumps(fields, indent=2))
    check = inst.run(inst.tinyperf, "check", tree, "--reference-dir", data)
    assert "VALID (2/2 results valid)" in check.stdout, check.stdout


@pytest.mark.timeout(INSTALL_TIMEOUT + 600)
@pytest.mark.parametrize("version", VERSIONS)
def test_demo_outside_checkout(installed, version: str, reference_dir: Path) -> None:
    inst = installed(version)
    inst.env["TINYPERF_REFERENCE_DIR"] = str(reference_dir)
    out = inst.work / "D"
    proc = inst.run(inst.tinyperf, "demo", "--models", "kws01", "--no-energy",
                    "--output-dir", out)
    assert "Verdict: VALID" in proc.stdout, proc.stdout
    assert (out / "report.html").is_file() and (out / "submission").is_dir()


def _readme_example() -> str | None:
    text = (REPO / "README.md").read_text()
    section = re.search(r"^## Using tinyperf from Python\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not section:
        return None
    blocks = re.findall(r"^```python\n(.*?)^```", section.group(1), re.M | re.S)
    return blocks[0] if len(blocks) == 1 else None


@pytest.mark.timeout(INSTALL_TIMEOUT + 600)
@pytest.mark.parametrize("version", VERSIONS)
def test_readme_python_example(installed, version: str, reference_dir: Path) -> None:
    code = _readme_example()
    if code is None:
        pytest.skip("README.md has no '## Using tinyperf from Python' section with one "
                    "```python block yet")
    inst = installed(version)
    inst.env["TINYPERF_REFERENCE_DIR"] = str(reference_dir)
    work = inst.work / "api"
    work.mkdir()
    (work / "example.py").write_text(code)
    proc = inst.run(inst.python, "example.py", cwd=work)
    assert "valid: True" in proc.stdout, proc.stdout
