"""What runs inside a DataLoader worker: WorkerInfo / get_worker_info, the dataset
fetchers, the worker loop, and ExceptionWrapper that carries a worker's error (with its
traceback text) back to the main process.

Transport: in a worker process each result is pickled right there (so that an
unpicklable batch becomes an error in the main process instead of a lost message and a
hang). Tensors pickle as (NumPy array, requires_grad) and are rebuilt on the main side.
Worker threads pass results by reference."""
import os
import pickle
import queue
import random
import sys
import threading
import traceback

import numpy as np

from .collate import default_collate
from .dataset import TensorDataset

__all__ = ["get_worker_info"]

# seconds between liveness checks while waiting on a queue (workers check that the main
# process still exists; the main process checks that the workers do)
MP_STATUS_CHECK_INTERVAL = 5.0

_local = threading.local()      # the WorkerInfo of the current worker thread
_process_info = None            # ... of the current worker process (any of its threads)


class WorkerInfo:
    """id, num_workers, seed and dataset (this worker's copy) of a DataLoader worker."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} "
                               f"objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


def get_worker_info():
    """The WorkerInfo of the DataLoader worker this runs in, or None in the main
    process."""
    info = getattr(_local, "info", None)
    return info if info is not None else _process_info


class _KeyErrorMessage(str):
    """KeyError's str() is the repr of its argument: show the text as written."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception's type and formatted traceback, to re-raise elsewhere."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_name = exc_info[0].__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            # an exception type that needs other arguments: keep the text at least
            raise RuntimeError(msg) from None
        raise exc


class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Start a new epoch (persistent workers): answered with (this, None)."""


# ---------------------------------------------------------------- fetchers
class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None
        # a TensorDataset batch collated by default is each tensor's rows at the keys:
        # one indexing per tensor instead of a tensor per sample and a stack
        self.rows = auto_collation and collate_fn is default_collate and \
            type(dataset) is TensorDataset

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.rows:
            index = list(index)
            return [t[index] for t in self.dataset.tensors]
        if self.getitems is not None:
            return self.collate_fn(self.getitems(index))
        ds = self.dataset
        return self.collate_fn([ds[i] for i in index])


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.it = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.it))
        data = []
        for _ in index:
            try:
                data.append(next(self.it))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# ---------------------------------------------------------------- the worker loop
def _seed_worker(seed, worker_id, base_seed):
    """Seed the RNGs a dataset may use: Python's, genesis's and NumPy's legacy global."""
    from ... import random as grandom
    random.seed(seed)
    grandom.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))


def worker_loop(iterable, dataset, index_queue, data_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers, threaded):
    """Serve (task_id, index) requests from ``index_queue`` until None arrives; answer
    each on ``data_queue`` with (task_id, batch or ExceptionWrapper or
    _IterableDatasetStopIteration)."""
    global _process_info
    where = f"in DataLoader worker process {worker_id}"
    put = data_queue.put if threaded else \
        (lambda item: data_queue.put(_dumps(item, worker_id)))
    try:
        seed = base_seed + worker_id
        info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        _local.info = info
        if not threaded:
            # threads share the process's generators: only processes get their own seeds
            _seed_worker(seed, worker_id, base_seed)
            _process_info = info
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=where)
        ended = False          # the iterable dataset is exhausted: ignore requests
        # our parent: the main process, or the fork server that started us (which ends
        # with the main process)
        parent_pid = os.getppid()
        while True:
            if not threaded and os.getppid() != parent_pid:
                break          # the main process died without shutting us down
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set():
                    break      # shut down, and the None sent after it was lost
                continue
            if isinstance(r, _ResumeIteration):
                put((r, None))
                ended = False
                if init_error is None:
                    fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn,
                                           drop_last)
                continue
            if r is None:
                break
            if done_event.is_set() or ended:
                continue
            task, index = r
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        ended = True
                except Exception:
                    data = ExceptionWrapper(where=where)
            put((task, data))
            del data, r, index
    except KeyboardInterrupt:
        pass
    if done_event.is_set() and not threaded:
        # the main process may not read what is still buffered: don't wait to flush it
        data_queue.cancel_join_thread()
        data_queue.close()


def _dumps(item, worker_id):
    try:
        return pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        task, data = item
        if not isinstance(data, ExceptionWrapper):
            data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id} (while "
                                          f"pickling its batch for the main process)")
        try:
            return pickle.dumps((task, data), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            data.exc_type = RuntimeError        # an exception class pickle cannot name
            return pickle.dumps((task, data), protocol=pickle.HIGHEST_PROTOCOL)
