"""The ``systems/<system>.json`` a round expects, and the submission README template.

Source: ``../shared/spec/submission_rules.md`` §2.3 (``TPL``, the MLCommons
``system_description_template.json``) and §2.2 (the keys the official checker copies into
the summary). The template is byte-identical in the v0.5, v1.0, v1.1 and v1.2 results
repositories and absent from v0.7 and v1.3, and the checker reads the same keys in every
version (``SC:463-513``), so every round v1.0 … v1.4 expects the same key set. We write
every template key once, in template order: the template's duplicated second block
(``Inference Framework``, ``Software Libraries``, ``Other Software Stack``,
``Software Notes``) collapses, ``Operating System `` keeps its trailing space and the
second block's ``Operating System`` (no space) is a distinct key, kept too. Values are
strings only (§2.4 "tinyperf").

Values the packager cannot know start with :data:`PLACEHOLDER`; ``package check`` reports
every field still holding one.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

PLACEHOLDER = "FILL ME"

#: ``system_description_template.json`` keys in template order, duplicates collapsed.
TEMPLATE_KEYS: tuple[str, ...] = (
    "Submitter", "Division", "Status", "Board Name",
    "Board Memory capacity (not including SoC, processor, or accelerator)",
    "Board Memory type", "Board storage capacity", "Board storage type", "SoC Name",
    "SoC Memory capacity (not including processor or accelerator)", "SoC Memory type",
    "SoC storage capacity", "SoC storage type", "Processor(s) Name",
    "Processor(s) Frequencies", "Processor memory type and capacity",
    "Processor storage type and capacity", "Accelerator", "Accelerator(s) Frequencies",
    "Accelerator memory type and capacity", "Accelerator storage type and capacity",
    "Hardware Notes", "Inference Framework", "Software Libraries", "Operating System ",
    "Other Software Stack", "Software Notes", "Operating System", "Quantization Method",
    "Training framework (open division)", "ML Model Compiler(s)", "General Compiler(s)",
    "Other Software", "Training and Quantization Notes",
)

#: Keys expected per round (same template for every round the checker knows, see above).
VERSION_KEYS: dict[str, tuple[str, ...]] = {
    v: TEMPLATE_KEYS for v in ("v1.0", "v1.1", "v1.2", "v1.3", "v1.4")}

STATUSES = ("Available", "Preview", "RDI")


def tinyperf_version() -> str:
    try:
        return metadata.version("tinyperf")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "unknown"


def _fill(what: str) -> str:
    return f"{PLACEHOLDER}: {what}"


def system_description(submitter: str, system: str, division: str, version: str) -> dict[str, str]:
    """Every key ``version`` expects; known values filled, the rest marked :data:`PLACEHOLDER`."""
    if version not in VERSION_KEYS:
        raise KeyError(version)
    tp = tinyperf_version()
    known: dict[str, str] = {
        "Submitter": submitter,
        "Division": division,
        "Status": _fill("Available | Preview | RDI"),
        "Board Name": _fill(f"board of system {system}, e.g. NUCLEO-L4R5ZI"),
        "Board Memory capacity (not including SoC, processor, or accelerator)":
            _fill("e.g. none or 8 MB PSRAM"),
        "Board Memory type": _fill("e.g. none or PSRAM"),
        "Board storage capacity": _fill("e.g. none or 16 MB"),
        "Board storage type": _fill("e.g. none or QSPI flash"),
        "SoC Name": _fill("e.g. STM32L4R5ZIT6"),
        "SoC Memory capacity (not including processor or accelerator)": _fill("e.g. 640 KB"),
        "SoC Memory type": _fill("e.g. SRAM"),
        "SoC storage capacity": _fill("e.g. 2 MB"),
        "SoC storage type": _fill("e.g. flash"),
        "Processor(s) Name": _fill("e.g. Arm Cortex-M4F"),
        "Processor(s) Frequencies": _fill("e.g. 120 MHz"),
        "Processor memory type and capacity": _fill("e.g. 640KB RAM"),
        "Processor storage type and capacity": _fill("e.g. 2MB flash"),
        "Accelerator": _fill("accelerator name, or none"),
        "Accelerator(s) Frequencies": _fill("e.g. 200 MHz, or N/A"),
        "Accelerator memory type and capacity": _fill("or N/A"),
        "Accelerator storage type and capacity": _fill("or N/A"),
        "Hardware Notes": "",
        "Inference Framework": _fill("DUT-side framework, e.g. TFLite Micro, X-CUBE-AI v10.2"),
        "Software Libraries": _fill("e.g. CMSIS-NN 6.0.0"),
        "Operating System ": _fill("e.g. bare metal"),
        "Other Software Stack": f"tinyperf {tp} (MLPerf Tiny {version} runner, MLCommons "
                                "runner file formats)",
        "Software Notes": f"Results measured and packaged with tinyperf {tp} "
                          f"(MLPerf Tiny {version}); runner firmware interface: "
                          "ULPMark for tinyML protocol.",
        "Operating System": _fill("e.g. bare metal (same as 'Operating System ')"),
        "Quantization Method": ("reference int8 models (closed division)" if division == "closed"
                                else _fill("quantization method")),
        "Training framework (open division)": ("N/A (closed division)" if division == "closed"
                                               else _fill("e.g. TensorFlow 2.15")),
        "ML Model Compiler(s)": _fill("e.g. X-CUBE-AI 10.2, or none"),
        "General Compiler(s)": _fill("e.g. arm-none-eabi-gcc 13.2 -O3"),
        "Other Software": f"tinyperf {tp}",
        "Training and Quantization Notes": "",
    }
    return {k: known[k] for k in VERSION_KEYS[version]}


def placeholders(doc: Any) -> list[str]:
    """Keys of a systems JSON object whose value still holds :data:`PLACEHOLDER`."""
    if not isinstance(doc, dict):
        return []
    return [k for k, v in doc.items() if isinstance(v, str) and PLACEHOLDER in v]


def missing_keys(doc: Any, version: str) -> list[str]:
    if not isinstance(doc, dict):
        return list(VERSION_KEYS.get(version, TEMPLATE_KEYS))
    return [k for k in VERSION_KEYS.get(version, TEMPLATE_KEYS) if k not in doc]


def readme(submitter: str, division: str, version: str, systems: list[str]) -> str:
    """A short README for ``<division>/<submitter>/README.md``."""
    tp = tinyperf_version()
    sys_lines = "\n".join(f"- `{s}`: see `systems/{s}.json`" for s in systems) or "- (none yet)"
    return f"""# {submitter} — MLPerf Tiny {version}, {division} division

{PLACEHOLDER}: one paragraph on what is submitted (boards, benchmarks, what is special).

## Systems

{sys_lines}

## Layout

- `results/<system>/<benchmark>/{{performance,accuracy,energy}}/`: the runner's files
  (`log.txt`, `results.txt`, `results.json`, `energy_inf_NNN.png`) as written by
  tinyperf {tp}, unchanged.
- `code/<benchmark>/<system>/`: the model file(s) run on the device and the firmware code
  (or a pointer to it: repository URL and commit), with sha256s in `manifest.json`.

## How to reproduce

{PLACEHOLDER}: how to build and flash the firmware (toolchain, flags, board settings).

```sh
tinyperf run --port PORT --mode performance --iterations auto --dataset-path DIR
tinyperf run --port PORT --mode accuracy --dataset-path DIR
tinyperf run --mode energy --interface PORT --monitor lpm01a:PORT --dataset-path DIR
tinyperf package add SESSION... --system SYSTEM
tinyperf package check
```

{PLACEHOLDER}: energy set-up (monitor, voltage, interface board, hook-up).
"""
