"""Packages of the one installed import name, ``tinyperf``.

The repository keeps one folder per part of the data flow; each installs as
``tinyperf.<folder>`` (``package_dir``), so the wheel holds a single top-level package.
Metadata lives in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

PARTS = ("formats", "reference_models", "firmware_interface", "harness", "submissions",
         "rules")


def packages() -> tuple[list[str], dict[str, str]]:
    names = ["tinyperf"] + [f"tinyperf.{p}" for p in find_namespace_packages(
        "tinyperf", exclude=["*__pycache__*"])]
    dirs = {"tinyperf": "tinyperf"}
    for part in PARTS:
        dirs[f"tinyperf.{part}"] = part
        names.append(f"tinyperf.{part}")
        # only folders that hold Python code (the C sources ride along as package data)
        names += [f"tinyperf.{part}.{sub}" for sub in find_namespace_packages(
            part, exclude=["*__pycache__*"]) if _has_python(f"{part}/{sub.replace('.', '/')}")]
    return names, dirs


def _has_python(folder: str) -> bool:
    from pathlib import Path
    return any(Path(folder).glob("*.py"))


PACKAGES, PACKAGE_DIR = packages()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR)
