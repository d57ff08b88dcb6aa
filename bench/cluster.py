"""Run the evaluation on a Dask or Ray cluster instead of local loky processes.

    python run_bench.py --task denoise --backend dask --scheduler tcp://host:8786
    python run_bench.py --task denoise --backend dask            # a temporary local cluster
    python run_bench.py --task denoise --backend ray [--scheduler ray://host:10001]

`cluster_backend(config, jobs)` is the context manager `runner.execute` runs joblib under.
Only `evaluate(item)` runs remotely; the parent writes each row to the store as it arrives, so an
interrupted cluster run resumes like a local one. Workers need the redbench code importable
and the images: the path the parent resolved (shared filesystem or same machine) or, failing
that, their own $REDBENCH_DATA_DIR / download cache (see `worker_path`). docs/cluster.md.
"""
from __future__ import annotations

import contextlib
import os
from functools import lru_cache

from .errors import UserError

DASK_ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
RAY_ADDRESS_ENV = "RAY_ADDRESS"


def _missing(backend: str, exc: ImportError) -> UserError:
    return UserError(f"--backend {backend} needs the optional package '{exc.name or backend}': "
                     f"pip install -e '.[{backend}]'")


def cluster_backend(config, jobs: int):
    """Context manager: joblib's backend set to config.backend ('dask' or 'ray') for its duration."""
    if config.backend == "dask":
        return _dask_backend(config.scheduler or os.environ.get(DASK_ADDRESS_ENV), jobs)
    if config.backend == "ray":
        return _ray_backend(config.scheduler or os.environ.get(RAY_ADDRESS_ENV), jobs)
    raise UserError(f"unknown backend '{config.backend}': use loky, dask or ray.")


@contextlib.contextmanager
def _dask_backend(address: str | None, jobs: int):
    try:
        from dask.distributed import Client, LocalCluster
        from joblib import parallel_config
    except ImportError as exc:
        raise _missing("dask", exc) from None
    with contextlib.ExitStack() as stack:
        if address:
            try:
                client = stack.enter_context(Client(address))
            except OSError as exc:
                raise UserError(f"cannot reach the dask scheduler at {address} ({exc}); start it with "
                                f"`dask scheduler` or fix --scheduler / ${DASK_ADDRESS_ENV}.") from None
            _check_dask_environment(client, address)
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        with parallel_config(backend="dask", client=client):
            yield client


def _check_dask_environment(client, address: str) -> None:
    """Fail fast unless the scheduler and every worker can import redbench.

    The scheduler unpickles the tasks too; when it cannot import `bench` it only logs the error
    and the run would wait forever.
    """
    def probe():   # a closure: pickled by value, so it reaches a process without redbench
        import bench.runner
        return bench.runner.__file__

    places = []
    try:
        client.run_on_scheduler(probe)
    except Exception as exc:
        places.append(f"the scheduler ({type(exc).__name__}: {exc})")
    for worker, result in client.run(probe, on_error="return").items():
        if isinstance(result, BaseException):
            places.append(f"worker {worker} ({type(result).__name__}: {result})")
    if places:
        raise UserError(f"redbench is not importable on {'; '.join(places[:3])}"
                        f"{f' and {len(places) - 3} more' if len(places) > 3 else ''} of the dask cluster at "
                        f"{address}: run `pip install -e '.[dask]'` in the same checkout/version on the scheduler "
                        f"and worker machines, or start them with PYTHONPATH=<checkout>.")


@contextlib.contextmanager
def _ray_backend(address: str | None, jobs: int):
    try:
        import ray
        from joblib import parallel_config
        from ray.util.joblib import register_ray
    except ImportError as exc:
        raise _missing("ray", exc) from None
    register_ray()
    _register_ray_generator_backend()
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address)
        else:   # local: workers start in this directory with this sys.path, like loky's
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(_import_path())}})
    try:
        with parallel_config(backend="ray", n_jobs=-1 if address else jobs):
            yield None
    finally:
        if started:
            ray.shutdown()   # disconnects this driver; a remote cluster keeps running


def _register_ray_generator_backend() -> None:
    """Ray's joblib backend, allowed to stream results (runner.execute stores each row as it arrives).

    RayBackend inherits `supports_return_generator = False` from joblib's multiprocessing backend,
    whose stdlib pool can deadlock when a generator is finalized in the pool's result thread; Ray's
    pool has its own result thread and aborts from the caller's thread, so streaming is safe there
    (tests/test_cluster.py runs it, errors included).
    """
    from joblib import register_parallel_backend
    from ray.util.joblib.ray_backend import RayBackend

    class StreamingRayBackend(RayBackend):
        supports_return_generator = True

    register_parallel_backend("ray", StreamingRayBackend)


def _import_path() -> list[str]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the checkout, for an uninstalled one
    return [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def worker_path(dataset: str, image: str, path: str) -> str:
    """The image file as seen from this (worker) process.

    The parent's path is used when this machine sees it (same machine or shared filesystem;
    the parent already verified its checksum). Otherwise the file is located like the parent
    does, from this process's own $REDBENCH_DATA_DIR or download cache, checksum verified.
    """
    if os.path.isfile(path):
        return path
    return _locate(dataset, image)


@lru_cache(maxsize=4096)
def _locate(dataset: str, image: str) -> str:
    from datasets.fetch import data_dir, get_spec, locate, read_checksums
    spec = get_spec(dataset)
    for name in spec.checksum_files:
        for entry in read_checksums(name):
            if entry.stem == image:
                return str(locate(entry, data_dir()))
    raise UserError(f"image '{image}' is not in dataset '{dataset}' on worker {os.uname().nodename}; "
                    f"the worker's redbench checkout differs from the parent's.")
