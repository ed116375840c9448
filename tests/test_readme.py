"""README.md's Python examples run as written and print what their comments say; its test command is CI's.

The blocks run in order in one namespace, as a reader pasting them into one session would run
them. A value in a comment is checked against what the code gives:

* a trailing comment after an expression statement (``losses.mse(y, p)  # [0.5 0.5 0.625]``)
  or a ``print`` (``print(m.result())  # 0.75``) whose text is numbers (optionally in NumPy's
  brackets) is the expected value: the expression's value, or the numbers printed;
* a comment line of numbers right after a ``print`` statement is its expected output;
* a trailing comment after a ``print`` whose output is text and starts with the comment's
  first word is the expected text: the output must contain it.

Other comments are prose. Numbers are compared with the digits written: each printed number
is either the shortest float32 repr (NumPy's and JAX's printing) or Keras's 7-significant-digit
print (KERAS2_SEMANTICS.md), so the allowed difference is 2 float32 ulps of the value, or
half a unit in the last written digit when 7 or more significant digits are written.
"""

from __future__ import annotations

import ast
import contextlib
import decimal
import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

from tests import ulps

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def numbers(text: str) -> list[str] | None:
    """The numbers written in ``text`` (NumPy's bracketed arrays included), or None if it is not only numbers."""
    tokens = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
    try:
        [float(token) for token in tokens]
    except ValueError:
        return None
    return tokens or None


def allowed_error(written: str) -> float:
    """How far a value may be from the number ``written`` (module docstring)."""
    value = decimal.Decimal(written)
    digits = value.as_tuple()
    significant = len(digits.digits) if value else 1
    half_unit = 0.5 * 10.0 ** digits.exponent if significant >= 7 else 0.0
    return max(2 * float(ulps.ulp(float(written), "float32")), half_unit)


def assert_numbers(got: np.ndarray, written: list[str], what: str) -> None:
    got = np.asarray(got, np.float64).ravel()
    assert got.size == len(written), f"{what}: {got.size} values, the comment shows {len(written)}: {written}"
    for value, expected in zip(got, written):
        assert abs(value - float(expected)) <= allowed_error(expected), f"{what}: {value!r}, the comment says {expected}"


def comments(source: str) -> dict[int, tuple[str, bool]]:
    """Line number -> (comment text, whether the comment is the whole line)."""
    found = {}
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            found[row] = (token.string[1:].strip(), not lines[row - 1][:col].strip())
    return found


def _is_print(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id == "print")


def run_block(index: int, namespace: dict) -> int:
    """Run block ``index`` statement by statement in ``namespace``; the number of comments checked."""
    source = BLOCKS[index]
    notes, checked = comments(source), 0
    for statement in ast.parse(source).body:
        code = ast.Module([statement], type_ignores=[])
        what = f"README.md block {index}, line {statement.lineno}"
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            if isinstance(statement, ast.Expr) and not _is_print(statement):
                value = eval(compile(ast.Expression(statement.value), what, "eval"), namespace)
            else:
                exec(compile(code, what, "exec"), namespace)
        printed = output.getvalue().strip()
        if printed:
            print(printed)
        if not isinstance(statement, ast.Expr):
            continue
        note, whole_line = notes.get(statement.end_lineno, ("", False))
        if whole_line or not note:  # an output comment on the line after a print
            note, whole_line = notes.get(statement.end_lineno + 1, ("", False))
            if not (whole_line and _is_print(statement) and numbers(note)):
                continue
        written = numbers(note)
        if written and _is_print(statement):
            assert numbers(printed), f"{what}: printed {printed!r}, the comment says {note}"
            assert_numbers(np.array(numbers(printed), np.float64), written, what)
        elif written:
            assert_numbers(value, written, what)
        elif _is_print(statement) and printed and not numbers(printed) and printed.split()[0] == note.split()[0]:
            assert note in printed, f"{what}: printed {printed!r}, the comment says {note!r}"
        else:
            continue
        checked += 1
    return checked


@pytest.fixture(scope="module")
def session():
    """The namespace the blocks share, and how many of them have run."""
    return {"namespace": {"__name__": "readme"}, "done": 0, "checked": 0}


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs_and_prints_its_comments(index, session):
    while session["done"] <= index:  # a block may use what earlier ones defined
        session["checked"] += run_block(session["done"], session["namespace"])
        session["done"] += 1


def test_readme_comments_are_checked(session):
    """The convention finds the printed values (a parser that silently skipped them would pass)."""
    while session["done"] < len(BLOCKS):
        session["checked"] += run_block(session["done"], session["namespace"])
        session["done"] += 1
    assert session["checked"] >= 15


@pytest.mark.parametrize("line, comment, ok", [
    ("0.865458", "0.865458", True),
    ("0.8654582", "0.865458", False),   # 3.4 float32 ulps from the written float32
    ("0.6931472", "0.6931471", True),   # Keras's 7 digits: 1 ulp
    ("0.6931474", "0.6931471", False),
    ("[1. 5. 5. 1.]", "[1. 5. 5. 1.]", True),
    ("[1. 5. 5. 2.]", "[1. 5. 5. 1.]", False),
    ("0.0", "0.375", False),
])
def test_number_comparison(line, comment, ok):
    if ok:
        assert_numbers(np.array(numbers(line), np.float64), numbers(comment), "example")
    else:
        with pytest.raises(AssertionError):
            assert_numbers(np.array(numbers(line), np.float64), numbers(comment), "example")


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)```", README, flags=re.S)[0]
    test_line = next(line for line in commands.splitlines() if "pytest" in line)
    test_command = test_line.split("&&")[-1].strip().replace(".venv/bin/", "")
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.replace(".venv/bin/", "")
