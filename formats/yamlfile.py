"""Reading configuration YAML: the safe loader only, errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from tinyperf.formats.errors import ConfigError


def load_yaml(path: Path, what: str) -> Any:
    """Parse ``path`` with ``yaml.safe_load`` (tags such as ``!!python`` are refused).

    ``what`` names the file's role in messages ("device list", "test script").
    """
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what}: {exc}", path=path) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=path) from exc
