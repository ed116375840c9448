"""README.md's Python examples run as written, and its test command is the one CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index):
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "readme"})


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)```", README, flags=re.S)[0]
    test_line = next(line for line in commands.splitlines() if "pytest" in line)
    test_command = test_line.split("&&")[-1].strip().replace(".venv/bin/", "")
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.replace(".venv/bin/", "")
