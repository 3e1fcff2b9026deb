"""Where the per-partition work runs: in worker processes of this machine, or as Dask tasks on a cluster.

A run too large for one pass is cut into partitions of comments; each partition's
sentence-level stages write a *shard* (a Parquet table of sentences and float16
``.npy`` files of their vectors) to a work folder, so memory holds a partition's
vectors at a time, not the corpus's. An engine only maps a function over the
partitions: :class:`LocalEngine` in worker processes of this machine,
:class:`DaskEngine` as tasks on a ``dask.distributed`` cluster (a ``LocalCluster``
when no scheduler address is given). Both run every task single-threaded
(:func:`run_single_threaded`) on the same partitions, so their outputs are the
same. Each worker is a process that loads the models once (the loaders are
cached per process) and reads and writes the work folder, which must therefore
be on storage every worker sees.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.errors import InputError
from insight.validation import require

ENGINES = ("local", "dask")
VECTOR_DTYPE = np.float16
"""Shard vectors are stored in half precision: half the disk and memory, cosines within ~1e-3."""


def partitions(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """Consecutive slices of ``frame`` with at most ``rows`` rows each (at least one, even if empty)."""
    for start in range(0, max(len(frame), 1), rows):
        yield frame.iloc[start : start + rows]


def write_shard(folder: Path, name: str, frame: pd.DataFrame, **vectors: np.ndarray) -> Path:
    """Write ``frame`` as ``<name>.parquet`` and each vector array (float16) as ``<name>.<key>.npy``."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / f"{name}.parquet", index=False)
    for key, array in vectors.items():
        np.save(folder / f"{name}.{key}.npy", np.asarray(array, dtype=VECTOR_DTYPE), allow_pickle=False)
    return folder / name


def read_shard(base: Path, *keys: str) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The frame and the float32 vector arrays ``keys`` written by :func:`write_shard`."""
    frame = pd.read_parquet(f"{base}.parquet")
    return frame, [np.load(f"{base}.{key}.npy", allow_pickle=False).astype(np.float32) for key in keys]


def stack_vectors(bases: Sequence[Path], key: str, target: Path) -> np.ndarray:
    """The shards' ``key`` vectors in order, as one float16 array memory-mapped from ``target``.

    Written shard by shard, so building it never holds more than one shard in memory.
    """
    paths = [f"{base}.{key}.npy" for base in bases]
    shapes = [np.load(path, mmap_mode="r", allow_pickle=False).shape for path in paths]
    dim = shapes[0][1] if shapes else 0
    out = np.lib.format.open_memmap(target, mode="w+", dtype=VECTOR_DTYPE, shape=(sum(s[0] for s in shapes), dim))
    start = 0
    for path, shape in zip(paths, shapes):
        out[start : start + shape[0]] = np.load(path, allow_pickle=False)
        start += shape[0]
    out.flush()
    del out
    return np.load(target, mmap_mode="r", allow_pickle=False)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Set to 1 in every worker before it imports a numeric library (Dask's nanny does the same for its workers)."""


def one_thread_per_worker() -> None:
    """Worker start-up: later imports of PyTorch and the BLAS libraries then start with one thread."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"


def run_single_threaded(item: Any, stage: Callable[..., Any], **kwargs: Any) -> Any:
    """``stage(item, **kwargs)`` with one BLAS and one PyTorch thread.

    A partition's numbers then do not depend on how many cores the process that
    runs it has (threaded reductions round differently), so every engine gives
    the same result; the parallelism comes from running partitions side by side.
    PyTorch is only told so when it is already loaded: a fast-mode worker never
    imports it, and one that does later starts single-threaded from the
    worker's environment (:func:`one_thread_per_worker`).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        return stage(item, **kwargs)


class LocalEngine:
    """Runs the partitions side by side in ``n_workers`` processes of this machine.

    The workers are started fresh (not forked: PyTorch's thread pools do not
    survive a fork) and each loads the models once, for its first partition.
    """

    name = "local"

    def __init__(self, n_workers: int = 2) -> None:
        self.n_workers = n_workers
        self._pool = None

    def map(self, func: Callable[..., Any], items: Sequence[Any], *, report: Callable[[int], None] | None = None,
            **kwargs: Any) -> list[Any]:
        import functools
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.n_workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=one_thread_per_worker)
        task = functools.partial(run_single_threaded, stage=func, **kwargs)
        futures = [self._pool.submit(task, item) for item in items]
        for done, _ in enumerate(as_completed(futures), start=1):
            if report is not None:
                report(done)
        return [future.result() for future in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class DaskEngine:
    """Runs the partitions as tasks on a Dask cluster.

    Parameters
    ----------
    scheduler : address of a running scheduler (``tcp://host:8786``); None starts a
        ``LocalCluster`` of ``n_workers`` single-threaded worker processes here.
    n_workers : workers of the local cluster.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int = 2) -> None:
        require("distributed", "dask[distributed]", purpose="The Dask engine")
        from dask.distributed import Client, LocalCluster

        self._cluster = None
        if scheduler is None:
            # one thread per worker: tasks run single-threaded and the workers share the cores
            self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.ERROR)
            address: Any = self._cluster
        else:
            address = scheduler
        try:
            self.client = Client(address, timeout="30s")
        except (OSError, ValueError) as exc:  # unreachable, timed out, or not an address
            self.close()
            raise InputError(f"Could not reach the Dask scheduler at {scheduler}: {exc}.",
                             hint="Check the address (tcp://host:8786) and that the scheduler is running.") from exc

    def map(self, func: Callable[..., Any], items: Sequence[Any], *, report: Callable[[int], None] | None = None,
            **kwargs: Any) -> list[Any]:
        from dask.distributed import as_completed

        futures = self.client.map(run_single_threaded, list(items), stage=func, pure=False, **kwargs)
        for done, _ in enumerate(as_completed(futures), start=1):
            if report is not None:
                report(done)
        return self.client.gather(futures)

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def open_engine(name: str, *, scheduler: str | None = None, n_workers: int = 2) -> LocalEngine | DaskEngine:
    """The engine called ``name`` ("local" or "dask")."""
    if name == "local":
        return LocalEngine(n_workers)
    if name == "dask":
        return DaskEngine(scheduler, n_workers=n_workers)
    raise InputError(f"Unknown engine {name!r}.", hint=f"Use one of {', '.join(ENGINES)}.")


def default_workdir(root: Path) -> Path:
    """A fresh folder for one run's shards under ``root``."""
    import uuid

    folder = root / "partitions" / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
