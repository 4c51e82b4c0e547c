"""The README's short tour runs as written, from a fresh folder holding the fixtures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tour_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A short tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return [line for line in lines if not line.startswith("corpus serve")]  # a server


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path):
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("CORPUS_STORE", "CORPUS_PLUGINS", "NO_COLOR"):
        env.pop(name, None)
    commands = tour_commands()
    assert any(c.startswith("corpus diff") for c in commands)
    # one shell, so a variable set on one line is there on the next; exit 1 is findings or
    # differences, anything else stops the tour and names the line
    script = "\n".join(
        f"{command}\n[ $? -le 1 ] || {{ echo TOUR_FAILED at line {n} >&2; exit 3; }}"
        for n, command in enumerate(commands, 1)
    )
    result = subprocess.run(
        ["sh", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "corpus: error" not in result.stderr, result.stderr[-3000:]
    assert (tmp_path / "diff.html").stat().st_size > 0
