"""DataLoader as torch.utils.data's: samplers, automatic batching, collation and
worker processes.

Workers (num_workers > 0) are processes of the given ``multiprocessing_context``; left as
None they are forked where 'fork' exists (the dataset and functions are inherited, not
pickled) and are threads elsewhere. Each worker process seeds Python's, NumPy's and
genesis's generators from ``base_seed + worker_id``; worker threads share the main
process's generators. Batches come back pickled: tensors travel as NumPy arrays and are
rebuilt in the main process. ``pin_memory`` is accepted and has no effect."""
import itertools
import math
import multiprocessing as mp
import os
import pickle
import queue
import threading
import time
import warnings

from ... import dtypes as _dt
from ...creation import empty
from . import _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from ._worker import ExceptionWrapper, _IterableDatasetStopIteration, _ResumeIteration

__all__ = ["DataLoader"]


class _InfiniteConstantSampler(Sampler):
    """None forever: the keys for an iterable dataset (which ignores them)."""

    def __iter__(self):
        while True:
            yield None


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader:
    """Iterates over ``dataset`` in batches. See torch.utils.data.DataLoader."""

    _DataLoader__initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # dataset checks come before sampler checks, as torch
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = "map"

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    # ------------------------------------------------------------ attributes
    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers <= 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(ctx, str):
                methods = mp.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={ctx!r}")
                ctx = mp.get_context(ctx)
            if not isinstance(ctx, mp.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={ctx}")
        self.__multiprocessing_context = ctx

    def __setattr__(self, attr, val):
        if self.__initialized and attr in _FROZEN:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # the keys fetched at once: batches of keys, or single keys without auto-batching
        return self.batch_sampler if self._auto_collation else self.sampler

    # ------------------------------------------------------------ iteration
    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        # persistent workers live as long as the loader: its one iterator is reset
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._dataset_kind == "iterable":
            # the dataset's own length in samples (it may be wrong: see the warning in
            # the iterator), turned into batches
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        if self.num_workers <= 1:
            return
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            cpus = os.cpu_count()
        if cpus is not None and self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes "
                          f"in total. Our suggested max number of worker in current system is "
                          f"{cpus}, which is smaller than what this DataLoader is going to "
                          f"create. Please be aware that excessive worker creation might get "
                          f"DataLoader running slow or even freeze, lower the worker number to "
                          f"avoid potential slowness/freeze if necessary.", stacklevel=2)


# the queues and workers of every live multi-worker iterator, keyed by id(iterator): while
# listed here they are reachable, so when an iterator dies in a reference cycle (an
# exception's traceback holds it) the garbage collector cannot close its queues (stopping
# their feeder threads) before its __del__ has sent the workers their stop signal
_LIVE = {}


def _default_context():
    """Fork where it exists (nothing to pickle, quick to start); None means threads."""
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory:
            cuda = getattr(__import__("genesis"), "cuda", None)
            if cuda is None or not cuda.is_available():
                warnings.warn("'pin_memory' argument is set as true but no accelerator is "
                              "found, then device pinned memory won't be used.", stacklevel=3)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = int(empty((), dtype=_dt.int64).random_(
            generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if self._dataset_kind == "iterable" and self._IterableDataset_len_called is not None \
                and self._num_yielded > self._IterableDataset_len_called:
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not "
                        "properly configuring the IterableDataset replica at each worker. "
                        "Please see https://pytorch.org/docs/stable/data.html"
                        "#torch.utils.data.IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = _worker.make_fetcher(self._dataset_kind == "iterable", self._dataset,
                                             self._auto_collation, self._collate_fn,
                                             self._drop_last)

    def _next_data(self):
        index = self._next_index()              # may raise StopIteration
        return self._fetcher.fetch(index)       # so may an iterable dataset


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Hands out (task_id, keys) to the workers round-robin, keeping
    ``prefetch_factor * num_workers`` tasks in flight, and gives the results back in task
    order (or as they come when ``in_order=False``)."""

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = _default_context()
        self._threaded = ctx is None
        if self._threaded:
            self._data_queue = queue.Queue()
            self._done_event = threading.Event()
        else:
            self._data_queue = ctx.Queue()
            self._done_event = ctx.Event()
        self._shutdown = False         # set first, so that __del__ after a failed start works
        self._workers = []
        self._index_queues = []
        for wid in range(self._num_workers):
            iq = queue.Queue() if self._threaded else ctx.Queue()
            if not self._threaded:
                iq.cancel_join_thread()     # exiting never waits on unsent keys
            args = (self._dataset_kind == "iterable", self._dataset, iq, self._data_queue,
                    self._done_event, self._auto_collation, self._collate_fn, self._drop_last,
                    self._base_seed, loader.worker_init_fn, wid, self._num_workers,
                    self._threaded)
            if self._threaded:
                w = threading.Thread(target=_worker.worker_loop, args=args, daemon=True)
            else:
                w = ctx.Process(target=_worker.worker_loop, args=args, daemon=True)
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
        _LIVE[id(self)] = (self._index_queues, self._data_queue, self._workers)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0              # the next task id to hand out
        self._rcvd_idx = 0              # the next task id to return (in order)
        self._task_info = {}            # task id -> worker id, for tasks not yet returned
        self._arrived = {}              # task id -> result that came early
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: start a new epoch, dropping the old epoch's leftovers
            for iq in self._index_queues:
                iq.put(_ResumeIteration())
            pending = self._num_workers
            while pending:
                task, _ = self._get_data()
                if isinstance(task, _ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            wid = next(self._worker_cycle)
            if self._workers_status[wid]:
                break
        else:
            return                      # every worker's iterable dataset is exhausted
        self._index_queues[wid].put((self._send_idx, index))
        self._task_info[self._send_idx] = wid
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _try_get_data(self, timeout):
        try:
            item = self._data_queue.get(timeout=timeout)
        except queue.Empty:
            dead = [w for i, w in enumerate(self._workers)
                    if self._workers_status[i] and not w.is_alive()]
            if dead:
                pids = ", ".join(str(getattr(w, "pid", w.name)) for w in dead)
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                   f"unexpectedly") from None
            return False, None
        return True, (item if self._threaded else pickle.loads(item))

    def _get_data(self):
        if self._timeout > 0:
            ok, data = self._try_get_data(self._timeout)
            if not ok:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return data
        while True:
            ok, data = self._try_get_data(_worker.MP_STATUS_CHECK_INTERVAL)
            if ok:
                return data

    def _next_data(self):
        while True:
            # skip tasks that will not come back (their worker's iterable dataset ended)
            # and, out of order, those already returned
            while self._rcvd_idx < self._send_idx:
                if self._rcvd_idx in self._arrived:
                    data = self._arrived.pop(self._rcvd_idx)
                    self._rcvd_idx += 1
                    return self._process_data(data)
                wid = self._task_info.get(self._rcvd_idx)
                if wid is not None and self._workers_status[wid]:
                    break
                if wid is not None:
                    del self._task_info[self._rcvd_idx]
                    self._tasks_outstanding -= 1
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            task, data = self._get_data()
            if isinstance(data, _IterableDatasetStopIteration):
                self._task_info.pop(task, None)
                self._tasks_outstanding -= 1
                self._workers_status[data.worker_id] = False
                self._try_put_index()
                continue
            if self._task_info.pop(task, None) is None:
                continue                # a stale result (cannot happen in one epoch)
            self._tasks_outstanding -= 1
            if task == self._rcvd_idx:
                self._rcvd_idx += 1
                return self._process_data(data)
            if not self._in_order:
                return self._process_data(data)
            self._arrived[task] = data

    def _process_data(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self):
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for iq in self._index_queues:
                iq.put(None)
            deadline = time.monotonic() + _worker.MP_STATUS_CHECK_INTERVAL
            for w in self._workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            if not self._threaded:
                for iq in self._index_queues:
                    iq.close()
        finally:
            if not self._threaded:
                for w in self._workers:
                    if w.is_alive():
                        w.terminate()
            _LIVE.pop(id(self), None)

    def __del__(self):
        if getattr(self, "_workers", None) is not None:
            self._shutdown_workers()
