"""Where the evaluation runs: local loky processes, or a Dask or Ray cluster.

    redbench eval --task denoise --backend dask --scheduler tcp://host:8786
    redbench eval --task denoise --backend dask            # a temporary local cluster
    redbench eval --task denoise --backend ray [--scheduler ray://host:10001]

`backend_context(backend, scheduler, jobs, task_module)` is the context manager `runner.execute` runs
joblib under. Only the tasks (runner.evaluate) run remotely; the parent writes each row to the store as
it arrives, so an interrupted cluster run resumes like a local one. Workers need the redbench code
importable and the images: the path the parent resolved (shared filesystem or same machine) or, failing
that, their own $REDBENCH_DATA_DIR / download cache (see datasets.fetch.worker_path). docs/cluster.md.
"""
from __future__ import annotations

import contextlib
import os

from redbench.core.errors import UserError

BACKENDS = ("loky", "dask", "ray")
DASK_ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
RAY_ADDRESS_ENV = "RAY_ADDRESS"


def _missing(backend: str, exc: ImportError) -> UserError:
    return UserError(f"--backend {backend} needs the optional package '{exc.name or backend}': "
                     f"pip install -e '.[{backend}]'")


@contextlib.contextmanager
def interrupt_on_signals():
    """SIGTERM and SIGHUP end a run as Ctrl-C does (KeyboardInterrupt in the main thread): the caller's cleanup
    runs, joblib aborts and ends its worker processes, and the finished rows are exported. Their default action
    would kill the parent at once and leave the loky workers running without it."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def backend_context(backend: str, scheduler: str | None, jobs: int, task_module: str):
    """Context manager: joblib's backend for its duration. loky: `jobs` local processes (sequential for 1);
    dask/ray: the cluster at `scheduler` (else its environment variable, else a local one), after checking
    that its machines can import `task_module`, the module of the tasks."""
    from joblib import parallel_config
    if backend == "loky":
        return parallel_config(backend="loky" if jobs > 1 else "sequential", n_jobs=jobs)
    if backend == "dask":
        return _dask_backend(scheduler or os.environ.get(DASK_ADDRESS_ENV), jobs, task_module)
    if backend == "ray":
        return _ray_backend(scheduler or os.environ.get(RAY_ADDRESS_ENV), jobs)
    raise UserError(f"unknown backend '{backend}': use {', '.join(BACKENDS)}.")


@contextlib.contextmanager
def _dask_backend(address: str | None, jobs: int, task_module: str):
    try:
        from dask.distributed import Client, LocalCluster
        from joblib import parallel_config
    except ImportError as exc:
        raise _missing("dask", exc) from None
    with contextlib.ExitStack() as stack:
        if address:
            try:
                client = stack.enter_context(Client(address))
            except (OSError, ValueError) as exc:   # ValueError: an address dask cannot parse ('host::::')
                raise UserError(f"cannot reach the dask scheduler at {address} ({exc}); start it with "
                                f"`dask scheduler` or fix --scheduler / ${DASK_ADDRESS_ENV}.") from None
            check_dask_environment(client, address, task_module)
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        with parallel_config(backend="dask", client=client):
            yield client


def check_dask_environment(client, address: str, task_module: str) -> None:
    """Fail fast unless the scheduler and every worker can import `task_module` (the tasks' module).

    The scheduler unpickles the tasks too; when it cannot import redbench it only logs the error
    and the run would wait forever.
    """
    def probe():   # a closure: pickled by value, so it reaches a process without redbench
        import importlib
        return importlib.import_module(task_module).__file__

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
