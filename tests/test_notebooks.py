"""The notebooks run top to bottom in a real Jupyter kernel, and the digits example trains.

Each notebook is executed with nbclient in a kernel started with this interpreter
(``sys.executable``, through a kernel spec written to a temporary folder, so no user-level
Jupyter set-up is involved), from a temporary copy of ``notebooks/`` and ``examples/`` (and the
recording the porting guide replays) so that nothing in the working tree is overwritten. Any
cell error fails the test; the notebooks assert the values they print.

Needs the ``notebooks`` extra (flax, scikit-learn, matplotlib, nbclient, nbformat, ipykernel);
skipped with the reason otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCRIPT = ROOT / "examples" / "train_digits.py"
GOLDEN_FILES = ("keras_fit.npz", "goldenio.py")
CELL_TIMEOUT_S = 600
KERNEL_NAME = "jaxent-tests"

NOTEBOOK_DEPENDENCIES = ("nbclient", "nbformat", "ipykernel", "jupyter_client", "flax", "sklearn", "matplotlib")
TRAINING_DEPENDENCIES = ("flax", "sklearn", "matplotlib")


def require(*modules: str) -> None:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: install the notebooks extra, pip install -e '.[notebooks]'")


def kernel_manager(kernel_dir: Path):
    """A KernelManager whose only kernel spec runs ipykernel with ``sys.executable``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = kernel_dir / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute_notebook(path: Path, workdir: Path, kernel_dir: Path, timeout: int = CELL_TIMEOUT_S):
    """Run every cell of the notebook at ``path`` with ``workdir`` as the kernel's working folder.

    Returns the executed notebook (outputs filled in); raises ``nbclient.exceptions.
    CellExecutionError`` on the first cell that fails, with the cell and its traceback.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        km=kernel_manager(kernel_dir),
        timeout=timeout,
        resources={"metadata": {"path": str(workdir)}},
        record_timing=False,
        coalesce_streams=True,
    )
    client.execute()
    return notebook


def copy_layout(destination: Path) -> Path:
    """``notebooks/``, ``examples/`` and the Keras fit recording copied under ``destination``.

    Returns the notebooks copy. The porting guide reads ``tests/golden/keras_fit.npz`` (with
    ``goldenio.py``) relative to ``examples/``.
    """
    shutil.copytree(NOTEBOOKS, destination / "notebooks", ignore=shutil.ignore_patterns("*.png", ".ipynb_checkpoints"))
    shutil.copytree(SCRIPT.parent, destination / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    golden = destination / "tests" / "golden"
    golden.mkdir(parents=True)
    for name in GOLDEN_FILES:
        shutil.copy(ROOT / "tests" / "golden" / name, golden / name)
    return destination / "notebooks"


def outputs_text(notebook) -> str:
    return "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )


def test_keras_examples_notebook_runs_and_matches_keras(tmp_path):
    require(*NOTEBOOK_DEPENDENCIES)
    notebooks = copy_layout(tmp_path / "repo")
    executed = execute_notebook(notebooks / "keras_examples.ipynb", notebooks, tmp_path / "kernels")
    text = outputs_text(executed)
    assert "\n    jaxent  " in text and "\n    keras   " in text
    assert "9.683772" in text  # the RMSprop docstring example ran to the end


def test_training_notebook_trains_on_simulated_devices(tmp_path):
    require(*NOTEBOOK_DEPENDENCIES)
    notebooks = copy_layout(tmp_path / "repo")
    executed = execute_notebook(notebooks / "training.ipynb", notebooks, tmp_path / "kernels")
    text = outputs_text(executed)
    assert "data-parallel over 4 devices" in text
    assert "Final test accuracy" in text
    assert (notebooks / "training.png").stat().st_size > 10_000


def test_porting_notebook_replays_keras_fit(tmp_path):
    require("nbclient", "nbformat", "ipykernel", "jupyter_client")
    notebooks = copy_layout(tmp_path / "repo")
    executed = execute_notebook(notebooks / "porting.ipynb", notebooks, tmp_path / "kernels")
    text = outputs_text(executed)
    assert text.count("max relative difference: history") == 4  # the four scenarios ran and compared
    assert "size-weighted mean of the batch losses" in text


def load_script():
    """``examples/train_digits.py`` imported as the module ``train_digits``."""
    spec = importlib.util.spec_from_file_location("train_digits", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_train_digits_one_epoch_on_one_device(tmp_path):
    require(*TRAINING_DEPENDENCIES)
    train_digits = load_script()
    history = train_digits.train(epochs=1, num_devices=1, verbose=False)
    assert history.num_devices == 1
    assert len(history.loss) == len(history.test_accuracy) == 1
    assert history.test_accuracy[0] > 0.7  # about 0.85 after one epoch; chance is 0.1
    assert history.test_loss[0] < history.loss[0]  # the epoch's mean includes the untrained start
    train_digits.plot_history(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_train_digits_data_parallel_follows_the_single_device_run():
    require(*TRAINING_DEPENDENCIES)
    # A fresh interpreter: the simulated device count must be set before JAX starts.
    program = textwrap.dedent(
        """
        import sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import train_digits
        single = train_digits.train(epochs=2, num_devices=1, verbose=False)
        parallel = train_digits.train(epochs=2, num_devices=4, verbose=False)
        assert parallel.num_devices == 4
        for key in ("loss", "accuracy", "test_loss", "test_accuracy"):
            np.testing.assert_allclose(getattr(parallel, key), getattr(single, key), rtol=1e-5, err_msg=key)
        print("ok", single.test_accuracy, parallel.test_accuracy)
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", program, str(SCRIPT.parent)], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok")
