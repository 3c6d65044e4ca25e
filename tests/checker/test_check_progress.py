"""Progress of ``tinyperf check`` over a whole record (#19 item 9): a line per round on a
log that is not a terminal, nothing for a single round (a few seconds at most)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tinyperf.cli.main import main


def test_a_folder_of_rounds_reports_progress_per_round(hard: Path, tmp_path: Path, capsys,
                                                        reference_dir: Path) -> None:
    rounds = tmp_path / "rounds"
    for name in ("v0.7", "v1.2"):
        shutil.copytree(hard / name, rounds / name)
    status = main(["check", str(rounds), "--reference-dir", str(reference_dir)])
    out, err = capsys.readouterr()
    assert status == 0, out
    lines = [line for line in err.splitlines() if line.startswith("check: ")]
    assert [line.split(" rounds")[0] for line in lines] == ["check: 1/2", "check: 2/2"]
    assert "Summary of the rounds" in out

    assert main(["check", str(rounds / "v1.2"), "--reference-dir", str(reference_dir)]) == 0
    assert "check: " not in capsys.readouterr().err
