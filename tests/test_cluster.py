"""Evaluation on a Dask (and, when installed, Ray) cluster gives exactly the rows of a local run."""
import builtins
import os

import pandas as pd
import pytest

from redbench.core.errors import UserError
from redbench.evaluation.runner import RunConfig, run
from tests.conftest import drop_rows

COLUMNS = ["image", "psnr", "ssim", "noise_seed"]


def _config(out, **kw):
    base = dict(task="denoise", levels=[30], datasets=["set12"], methods=["tv"], out=str(out), jobs=2,
                tables=False)
    base.update(kw)
    return RunConfig(**base)


def _rows(out):
    frame = pd.read_csv(out / "rows.csv", dtype={"image": str})
    return frame.sort_values("image").reset_index(drop=True)


@pytest.fixture(scope="module")
def loky_rows(mirror, tmp_path_factory):
    out = tmp_path_factory.mktemp("loky")
    run(_config(out), [], progress=False)
    return _rows(out)


def test_dask_cluster_rows_equal_loky(loky_rows, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        totals = run(_config(tmp_path, backend="dask", scheduler=cluster.scheduler_address), [], progress=False)
        assert totals["computed"] == 12
        rows = _rows(tmp_path)
        assert rows[COLUMNS].equals(loky_rows[COLUMNS])
        workers = {w.split(":")[1] for w in rows.worker}
        assert str(os.getpid()) not in workers          # computed on the cluster, not in this process
        # an interrupted cluster run resumes like a local one: only the missing rows are computed
        drop_rows(tmp_path, 3)
        assert run(_config(tmp_path, backend="dask", scheduler=cluster.scheduler_address), [],
                   progress=False)["computed"] == 3
        assert _rows(tmp_path)[COLUMNS].equals(loky_rows[COLUMNS])
        # a worker that cannot see the parent's path finds the image in its own mirror
        from redbench.evaluation.runner import WorkItem, evaluate
        image = loky_rows.image[0]
        item = WorkItem("denoise", "set12", image, f"/nonexistent/parent/{image}.png", "tv", 30, 0, False)
        with distributed.Client(cluster) as client:
            row = client.submit(evaluate, item, pure=False).result(timeout=120)
        assert row["worker"].split(":")[1] != str(os.getpid())
        assert [row[c] for c in COLUMNS] == loky_rows.loc[0, COLUMNS].tolist()


def test_worker_finds_images_the_parent_path_does_not_reach(mirror, tmp_path):
    from redbench.datasets.fetch import dataset_files, worker_path
    from redbench.evaluation.runner import WorkItem, evaluate
    ref = dataset_files("set12")[0]
    assert worker_path("set12", ref.name, ref.path) == ref.path
    # the parent's path does not exist here: the worker locates the file in its own mirror
    found = worker_path("set12", ref.name, "/nonexistent/parent/mount/" + os.path.basename(ref.path))
    assert os.path.samefile(found, ref.path)
    elsewhere = WorkItem("denoise", "set12", ref.name, "/nonexistent/" + ref.name, "tv", 30, 0, False)
    here = WorkItem("denoise", "set12", ref.name, ref.path, "tv", 30, 0, False)
    a, b = evaluate(elsewhere), evaluate(here)
    assert (a["psnr"], a["ssim"], a["noise_seed"]) == (b["psnr"], b["ssim"], b["noise_seed"])
    with pytest.raises(UserError, match="not in dataset"):
        worker_path("set12", "no-such-image", "/nonexistent/x.png")


@pytest.mark.parametrize("backend, blocked", [("dask", "dask"), ("ray", "ray")])
def test_missing_package_says_what_to_install(monkeypatch, tmp_path, backend, blocked):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == blocked or name.startswith(blocked + "."):
            raise ModuleNotFoundError(f"No module named '{blocked}'", name=blocked)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    from redbench.evaluation.cluster import backend_context
    with pytest.raises(UserError, match=rf"pip install -e '\.\[{backend}\]'"):
        with backend_context(backend, None, 2, "redbench.evaluation.runner"):
            pass


def test_unreachable_scheduler_is_a_user_error(tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.distributed")
    from redbench.evaluation.cluster import backend_context
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            pytest.raises(UserError, match="cannot reach the dask scheduler"):
        with backend_context("dask", "tcp://127.0.0.1:9", 2, "redbench.evaluation.runner"):
            pass


def test_ray_rows_equal_loky(loky_rows, tmp_path):
    pytest.importorskip("ray")
    totals = run(_config(tmp_path, backend="ray"), [], progress=False)   # a local Ray instance, shut down after
    assert totals["computed"] == 12
    rows = _rows(tmp_path)
    assert rows[COLUMNS].equals(loky_rows[COLUMNS])
    assert str(os.getpid()) not in {w.split(":")[1] for w in rows.worker}


def test_cluster_without_redbench_fails_fast():
    from redbench.evaluation.cluster import check_dask_environment

    class Client:   # what dask answers when the scheduler and a worker cannot import redbench
        def run_on_scheduler(self, probe):
            raise ModuleNotFoundError("No module named 'redbench'")

        def run(self, probe, on_error):
            return {"tcp://w1:1": probe(), "tcp://w2:2": ModuleNotFoundError("No module named 'redbench'")}

    with pytest.raises(UserError) as info:
        check_dask_environment(Client(), "tcp://h:8786", "redbench.evaluation.runner")
    message = str(info.value)
    assert "the scheduler" in message and "tcp://w2:2" in message and "tcp://w1:1" not in message
    assert "pip install -e '.[dask]'" in message
