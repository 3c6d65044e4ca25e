"""The import graph follows the data flow: a lower layer never imports a higher one.

models -> DUT -> session -> submission -> verdict, the CLI and the public API on top, the
shared formats at the bottom. The two ends of the serial line (``firmware_interface``, the
DUT side, and ``harness``, the host side) never import each other: they meet on the wire.
Every import counts, also the ones inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import tinyperf

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("formats", "reference_models", "firmware_interface", "harness", "submissions",
         "rules", "tinyperf")

#: Layer of each module prefix (longest prefix wins), bottom = 0. The README's picture.
LAYERS = {
    "tinyperf.formats": 0,
    "tinyperf.reference_models": 1,
    "tinyperf.firmware_interface": 2,
    "tinyperf.harness.link": 2,
    "tinyperf.harness.energy": 3,
    "tinyperf.harness.run": 4,
    "tinyperf.harness.energy.run": 4,
    "tinyperf.harness.analysis": 5,
    "tinyperf.submissions": 6,
    "tinyperf.rules": 7,
    "tinyperf": 8,  # the CLI, the demo and the public API
}
#: Same-rank neighbours that must not import each other either.
APART = [("tinyperf.harness", "tinyperf.firmware_interface")]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] != "tinyperf":
        parts.insert(0, "tinyperf")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len)
    return LAYERS[best]


def imports(path: Path, name: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # ``from pkg import module`` imports the module itself
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return [(line, m) for line, m in out if m == "tinyperf" or m.startswith("tinyperf.")]


def product_files() -> list[Path]:
    files = []
    for part in PARTS:
        files += [p for p in (ROOT / part).rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files)


def known_module(name: str) -> bool:
    """``name`` is a module or package of tinyperf (not a function imported from one)."""
    parts = name.split(".")[1:]
    if not parts:
        return True
    top = ROOT / ("tinyperf" if parts[0] in ("cli", "demo", "api") else "")
    base = (top if parts[0] in ("cli", "demo", "api") else ROOT) / Path(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file() or \
        base.is_dir()


def violations() -> list[str]:
    out = []
    for path in product_files():
        name = module_name(path)
        mine = layer(name)
        for line, target in imports(path, name):
            if not known_module(target) or target == "tinyperf":
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if layer(target) > mine:
                out.append(f"{where}: {name} (layer {mine}) imports {target} "
                           f"(layer {layer(target)})")
            for a, b in APART:
                for x, y in ((a, b), (b, a)):
                    if name.startswith(x + ".") and target.startswith(y + "."):
                        out.append(f"{where}: {name} imports {target} ({x} and {y} meet only "
                                   "on the serial line)")
    return out


def test_every_import_follows_the_data_flow():
    assert violations() == []


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    """The test itself can fail: an upward import planted in a copy is reported."""
    fake_root = tmp_path / "repo"
    for part in PARTS:
        (fake_root / part).mkdir(parents=True)
        (fake_root / part / "__init__.py").write_text("")
    (fake_root / "harness" / "run").mkdir()
    (fake_root / "harness" / "run" / "__init__.py").write_text("")
    (fake_root / "harness" / "run" / "x.py").write_text(
        "def f():\n    from tinyperf.rules import engine\n")
    (fake_root / "rules" / "engine.py").write_text("from ..harness.run import x\n")
    (fake_root / "firmware_interface" / "y.py").write_text(
        "from tinyperf.harness.run import x\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    found = violations()
    assert any("tinyperf.harness.run.x (layer 4) imports tinyperf.rules" in v for v in found)
    assert any("firmware_interface.y imports tinyperf.harness.run" in v for v in found)
    assert not any("rules.engine" in v.split(":")[0] for v in found)


def test_layers_match_the_installed_package():
    """Every part is importable as ``tinyperf.<part>`` from where the layer map says."""
    for part in PARTS[:-1]:
        mod = __import__(f"tinyperf.{part}", fromlist=["_"])
        assert Path(mod.__file__).parent == ROOT / part
    assert Path(tinyperf.__file__).parent == ROOT / "tinyperf"


@pytest.mark.parametrize("prefix", sorted(LAYERS))
def test_every_layer_exists(prefix):
    assert known_module(prefix)
