"""Shell completion, as the README tells users to set it up (click's ``_CORPUS_COMPLETE``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: The ``corpus`` console script of this installation (beside the interpreter).
SCRIPT = Path(sys.executable).with_name("corpus")


def complete(shell: str, words: str, cword: int) -> list[str]:
    """What ``corpus`` answers a shell asking to complete ``words`` at word ``cword``."""
    env = {
        **os.environ,
        "_CORPUS_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    run = subprocess.run(
        [sys.executable, "-m", "corpus"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def test_commands_and_options_complete():
    assert "plain,ingest" in complete("bash", "corpus in", 1)
    assert "plain,--jobs" in complete("bash", "corpus ingest --jo", 2)
    commands = {line.split(",", 1)[1] for line in complete("bash", "corpus ", 1)}
    assert {"ingest", "diff", "search", "serve", "store", "validate"} <= commands


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script(shell):
    env = {**os.environ, "_CORPUS_COMPLETE": f"{shell}_source"}
    run = subprocess.run(
        [sys.executable, "-m", "corpus"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert "_CORPUS_COMPLETE" in run.stdout and "corpus" in run.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.skipif(not SCRIPT.exists(), reason="the corpus console script is not installed")
def test_the_readme_line_completes_in_a_real_bash():
    """``eval "$(_CORPUS_COMPLETE=bash_source corpus)"``, then what bash calls on Tab (the
    command, the word, the word before)."""
    script = (
        'eval "$(_CORPUS_COMPLETE=bash_source corpus)"\n'
        "COMP_WORDS=(corpus ing); COMP_CWORD=1; _corpus_completion corpus ing corpus\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["ingest"]
