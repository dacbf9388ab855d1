"""The shipped notebooks, executed headless (nbclient + ipykernel) against the loopback swarm.

Each runs in a fresh kernel whose Jupyter/IPython dirs and mediahub data dir live under the
test's tmp dir; the magnets come from the swarm through the notebooks' env variables.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.server_process import loopback_env

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def kernel_env(tmp_path: Path, **demo: str) -> dict[str, str]:
    env = loopback_env(tmp_path / "data")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.update(demo)
    return env


def run_notebook(name: str, tmp_path: Path, env: dict[str, str], timeout: int = 120) -> nbformat.NotebookNode:
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def texts(notebook: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for out in outputs(notebook))


def widget_state(notebook: nbformat.NotebookNode, model_id: str) -> dict:
    """A widget's last state, as nbclient stored it in the notebook's metadata."""
    ref = model_id.removeprefix("IPY_MODEL_")
    return notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"][ref]["state"]


def widget_views(notebook: nbformat.NotebookNode) -> list[str]:
    return [out["data"][WIDGET_VIEW]["model_id"] for out in outputs(notebook) if WIDGET_VIEW in out.get("data", {})]


@pytest.fixture
def movie_seed(swarm, mp4_file):
    return swarm.seed({"Big.Buck.Bunny.2008.mp4": mp4_file}, piece_size=16 * 1024)


def test_quickstart_downloads_and_previews(tmp_path, movie_seed):
    env = kernel_env(tmp_path, MEDIAHUB_DEMO_MAGNET=movie_seed.magnet, MEDIAHUB_DEMO_TIMEOUT="60")
    notebook = run_notebook("quickstart.ipynb", tmp_path, env)
    assert not [out for out in outputs(notebook) if out["output_type"] == "error"]
    assert "Big Buck Bunny is ready" in texts(notebook)
    assert f"library: {tmp_path / 'data'} (0 items" in texts(notebook)  # which data dir it opened
    assert len(widget_views(notebook)) == 1  # the dashboard, its preview player inside: one <video> on the page
    # (Rows are made by the dashboard's background task, whose widget messages nbclient does not
    # keep; the browser test watches them live.)
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    videos = [w["state"]["value"] for w in states if "<video" in str(w["state"].get("value", ""))]
    assert len(videos) == 1 and "/stream?token=mh_" in videos[0]
    library = tmp_path / "data" / "library"
    assert [p.read_bytes() for p in library.rglob("*.mp4")] == [movie_seed.files["Big.Buck.Bunny.2008.mp4"]]


def test_automation_bulk_adds_and_reports(tmp_path, swarm, mp4_file):
    seeds = [swarm.seed({name: mp4_file}, piece_size=16 * 1024) for name in ("Sintel.2010.mp4", "Tears.of.Steel.2012.mp4")]
    magnets = " ".join([s.magnet for s in seeds] + ["magnet:?dn=no-hash"])
    env = kernel_env(tmp_path, MEDIAHUB_DEMO_MAGNETS=magnets, MEDIAHUB_DEMO_TIMEOUT="60")
    notebook = run_notebook("automation.ipynb", tmp_path, env)
    assert not [out for out in outputs(notebook) if out["output_type"] == "error"]
    text = texts(notebook)
    assert text.count("refused:") == 1 and text.count("added ") == 2
    assert "{'ready': 2}" in text
    views = widget_views(notebook)
    assert len(views) == 2  # the progress bars and the report
    bars = [widget_state(notebook, child) for child in widget_state(notebook, views[0])["children"]]
    assert [bar["value"] for bar in bars] == [100, 100]
    report = widget_state(notebook, views[1])["value"]
    assert "Sintel" in report and "Tears of Steel" in report and report.count("<td>ready</td>") == 2
