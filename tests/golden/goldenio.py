"""Reading and writing golden-vector files: one compressed ``.npz`` per family.

Shared by the tf-keras generators (run in a throwaway virtualenv with only NumPy, TensorFlow
and tf-keras) and by the tests, so it depends on NumPy and the standard library alone.

A file holds a list of cases. Each case is a dict with
  ``name``    unique, readable id (used as the pytest id),
  ``fn``      the jaxent callable it exercises, dotted (``"losses.binary_crossentropy"``),
  ``kwargs``  JSON-serialisable keyword arguments (options such as ``from_logits``),
  ``inputs``  name -> array (the exact values fed to Keras),
  ``outputs`` name -> array (what Keras returned: ``"value"``, gradients ``"grad_<input>"``, ...),
  ``dtypes``  optional name -> dtype string for inputs that NumPy cannot store natively
              (``"bfloat16"``: stored as float32, which holds every bfloat16 exactly),
  ``meta``    optional JSON-serialisable notes (e.g. Keras's native 16-bit value).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

_MANIFEST = "__manifest__"


def save_cases(path: str | Path, cases: list[dict[str, Any]]) -> None:
    """Write ``cases`` to ``path`` (``np.savez_compressed``), manifest as JSON bytes."""
    arrays: dict[str, np.ndarray] = {}
    manifest = []
    names = set()
    for index, case in enumerate(cases):
        if case["name"] in names:
            raise ValueError(f"duplicate golden case name {case['name']!r}")
        names.add(case["name"])
        entry = {
            "name": case["name"],
            "fn": case["fn"],
            "kwargs": case.get("kwargs", {}),
            "dtypes": case.get("dtypes", {}),
            "meta": case.get("meta", {}),
            "inputs": sorted(case["inputs"]),
            "outputs": sorted(case["outputs"]),
        }
        manifest.append(entry)
        for group in ("inputs", "outputs"):
            for key, value in case[group].items():
                value = np.asarray(value)
                if value.dtype.name == "bfloat16":
                    value = value.astype(np.float32)
                arrays[f"{index}/{group}/{key}"] = value
    blob = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    np.savez_compressed(path, **{_MANIFEST: blob}, **arrays)


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    """Read the cases written by :func:`save_cases` (arrays as stored, dtypes tagged)."""
    with np.load(path) as data:
        manifest = json.loads(data[_MANIFEST].tobytes().decode())
        cases = []
        for index, entry in enumerate(manifest):
            case = dict(entry)
            for group in ("inputs", "outputs"):
                case[group] = {key: data[f"{index}/{group}/{key}"] for key in entry[group]}
            cases.append(case)
    return cases
