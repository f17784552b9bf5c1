"""genesis.utils.data against torch.utils.data: collation, DataLoader batches and lengths,
argument errors, samplers, random_split, and worker processes/threads."""
import collections
import os
import time
import warnings

import numpy as np
import pytest

import genesis
import genesis.utils.data as gd
from genesis.utils.data import _worker
from genesis.utils.data import dataloader as gdl
from oracle import needs_torch, torch

if torch is not None:
    import torch.utils.data as td

Point = collections.namedtuple("Point", "x y")


class Pair(collections.abc.Sequence):
    """A read-only sequence type that cannot be built from a list (collate falls back
    to a list)."""

    def __init__(self, a, b):
        self.v = (a, b)

    def __getitem__(self, i):
        return self.v[i]

    def __len__(self):
        return 2


# ---------------------------------------------------------------- comparing structures
def same(g, t):
    """genesis result ``g`` has torch result ``t``'s structure, types, dtypes, shapes and
    values."""
    if torch.is_tensor(t):
        assert isinstance(g, genesis.Tensor), f"{type(g)} is not a Tensor"
        assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert tuple(g.shape) == tuple(t.shape)
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    elif isinstance(t, np.ndarray):
        assert isinstance(g, np.ndarray) and g.dtype == t.dtype
        np.testing.assert_array_equal(g, t)
    elif isinstance(t, collections.abc.Mapping):
        assert type(g) is type(t) and list(g) == list(t)
        for k in t:
            same(g[k], t[k])
    elif isinstance(t, (list, tuple, Pair)) and not isinstance(t, str):
        assert type(g) is type(t), f"{type(g)} is not {type(t)}"
        assert len(g) == len(t)
        for a, b in zip(g, t):
            same(a, b)
    else:
        assert type(g) is type(t) and g == t


def arr(*shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# each entry: name -> lib -> a batch (a list of samples)
COLLATE_CASES = {
    "tensors": lambda L: [L.tensor(arr(3, seed=i)) for i in range(4)],
    "tensors_0d_int": lambda L: [L.tensor(i) for i in range(3)],
    "tensors_f64_2d": lambda L: [L.tensor(arr(2, 3, dtype="float64", seed=i)) for i in range(2)],
    "ints": lambda L: [1, 2, 3],
    "floats": lambda L: [1.5, 2.0],
    "bools": lambda L: [True, False],
    "strs": lambda L: ["a", "bc"],
    "bytes": lambda L: [b"a", b"b"],
    "np_arrays": lambda L: [arr(2, 2, seed=i) for i in range(3)],
    "np_int16": lambda L: [np.arange(3, dtype=np.int16)] * 2,
    "np_bool": lambda L: [np.array([True, False])] * 2,
    "np_f32_scalars": lambda L: [np.float32(1.5), np.float32(2)],
    "np_i64_scalars": lambda L: [np.int64(1), np.int64(7)],
    "np_bool_scalars": lambda L: [np.bool_(True), np.bool_(False)],
    "np_f64_scalars": lambda L: [np.float64(0.5), np.float64(2)],
    "dicts": lambda L: [{"x": L.tensor(arr(2, seed=i)), "y": i, "name": str(i)}
                        for i in range(3)],
    "ordered_dict": lambda L: [collections.OrderedDict(b=1.0, a=np.int32(i)) for i in range(2)],
    "namedtuple": lambda L: [Point(L.tensor(arr(2, seed=i)), float(i)) for i in range(2)],
    "tuples": lambda L: [(L.tensor(arr(2, seed=i)), i, "s") for i in range(3)],
    "lists": lambda L: [[i, 2.0 * i] for i in range(3)],
    "custom_seq": lambda L: [Pair(i, 1.0) for i in range(2)],
    "nested": lambda L: [{"a": [(i, arr(2, seed=i))], "b": {"c": True}} for i in range(2)],
}


@needs_torch
@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_vs_torch(case):
    make = COLLATE_CASES[case]
    same(gd.default_collate(make(genesis)), td.default_collate(make(torch)))


CONVERT_CASES = {
    "np_array": lambda L: arr(2, 3),
    "np_scalar": lambda L: np.float32(2.5),
    "np_str_array": lambda L: np.array(["a", "b"]),
    "tensor": lambda L: L.tensor([1, 2]),
    "tuple": lambda L: (arr(2), 1, "x"),
    "namedtuple": lambda L: Point(np.int64(3), [arr(1)]),
    "dict": lambda L: {"a": arr(2), "b": [np.float64(1.0)]},
    "str": lambda L: "text",
    "int": lambda L: 5,
}


@needs_torch
@pytest.mark.parametrize("case", list(CONVERT_CASES))
def test_default_convert_vs_torch(case):
    make = CONVERT_CASES[case]
    same(gd.default_convert(make(genesis)), td.default_convert(make(torch)))


@pytest.mark.parametrize("batch, exc, msg", [
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ([(1, 2), (3,)], RuntimeError, "each element in list of batch should be of equal size"),
    ("stack", RuntimeError, r"stack expects each tensor to be equal size, but got \[3\] at "
                            r"entry 0 and \[4\] at entry 1"),
    ([object(), object()], TypeError, "default_collate: batch must contain tensors, numpy "
                                      "arrays, numbers, dicts or lists; found <class 'object'>"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
])
def test_default_collate_errors(batch, exc, msg):
    if batch == "stack":
        batch = [genesis.zeros(3), genesis.zeros(4)]
    with pytest.raises(exc, match=msg):
        gd.default_collate(batch)
    if torch is not None and not isinstance(batch[0], genesis.Tensor):
        with pytest.raises(exc, match=msg):
            td.default_collate(batch)


# ---------------------------------------------------------------- datasets
class DictData:
    """A map-style dataset (duck-typed, as torch allows) with dict samples."""

    def __init__(self, n, lib):
        self.n, self.lib = n, lib

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": arr(2, seed=i), "t": self.lib.tensor([i, -i]), "i": i, "s": f"s{i}"}


class Count(gd.IterableDataset):
    """0 .. n-1 (split between workers when there are several); ``length`` is what
    __len__ reports."""

    def __init__(self, n, length=None):
        self.n, self.length = n, n if length is None else length

    def __len__(self):
        return self.length

    def __iter__(self):
        info = gd.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


if torch is not None:
    class TorchCount(td.IterableDataset):
        def __init__(self, n, length=None):
            self.n, self.length = n, n if length is None else length

        def __len__(self):
            return self.length

        def __iter__(self):
            return iter(range(self.n))


def _tensor_data(L):
    return L.utils.data.TensorDataset(L.tensor(arr(10, 3)), L.tensor(np.arange(10)))


@needs_torch
@pytest.mark.parametrize("data", ["tensor", "dict", "iterable"])
@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True),
                                                    (4, True), (None, False)])
def test_sequential_batches_vs_torch(data, batch_size, drop_last):
    def loader(L):
        ds = {"tensor": lambda: _tensor_data(L), "dict": lambda: DictData(7, L),
              "iterable": lambda: (Count if L is genesis else TorchCount)(7)}[data]()
        return L.utils.data.DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    g, t = loader(genesis), loader(torch)
    assert len(g) == len(t)
    gb, tb = list(g), list(t)
    assert len(gb) == len(tb)
    for a, b in zip(gb, tb):
        same(a, b)


@needs_torch
@pytest.mark.parametrize("kw", [dict(sampler=[4, 2, 0, 1], batch_size=3),
                                dict(sampler=[3, 3, 1], batch_size=None),
                                dict(batch_sampler=[[1, 2], [0], [4, 3, 2]]),
                                dict(batch_size=2, collate_fn=lambda b: b)])
def test_custom_samplers_vs_torch(kw):
    g = gd.DataLoader(DictData(5, genesis), **kw)
    t = td.DataLoader(DictData(5, torch), **kw)
    assert len(g) == len(t)
    for a, b in zip(g, t, strict=True):
        same(a, b)


def test_tensor_dataset_fast_path_equals_per_sample_collate():
    x = genesis.tensor(arr(9, 2, 2))
    y = genesis.tensor(np.arange(9) % 2 == 0)
    ds = gd.TensorDataset(x, y)
    fast = list(gd.DataLoader(ds, batch_size=4))
    slow = list(gd.DataLoader(ds, batch_size=4, collate_fn=lambda b: gd.default_collate(b)))
    for a, b in zip(fast, slow):
        assert isinstance(a, list) and len(a) == 2
        for p, q in zip(a, b):
            assert p.dtype == q.dtype and p.shape == q.shape
            np.testing.assert_array_equal(p.numpy(), q.numpy())


@needs_torch
@pytest.mark.parametrize("n, length, batch_size, drop_last, warns", [
    (10, 10, 3, False, 0), (10, 10, 3, True, 0), (10, 10, None, False, 0), (7, 7, 7, True, 0),
    (6, 4, None, False, 2), (6, 4, 2, False, 0)])
def test_iterable_len_vs_torch(n, length, batch_size, drop_last, warns):
    g = gd.DataLoader(Count(n, length), batch_size=batch_size, drop_last=drop_last)
    t = td.DataLoader(TorchCount(n, length), batch_size=batch_size, drop_last=drop_last)
    assert len(g) == len(t)
    with warnings.catch_warnings(record=True) as gw:
        warnings.simplefilter("always")
        gb = list(g)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        tb = list(t)
    assert len(gb) == len(tb)
    # a dataset whose __len__ understates its size is reported, as torch does
    assert [str(w.message).split(" was")[1] for w in gw] == \
        [str(w.message).split(" was")[1] for w in tw]
    assert len(gw) == warns     # counted in batches against samples, as torch


def test_iterable_len_without_len():
    class NoLen(gd.IterableDataset):
        def __iter__(self):
            return iter(range(3))
    dl = gd.DataLoader(NoLen(), batch_size=2)
    with pytest.raises(TypeError):
        len(dl)
    assert [b.tolist() for b in dl] == [[0, 1], [2]]


@needs_torch
def test_datasets_vs_torch():
    for L in (genesis, torch):
        D = L.utils.data
        a, b = _tensor_data(L), DictData(3, L)
        cat = a + b
        assert isinstance(cat, D.ConcatDataset) and len(cat) == 13
        assert cat.cumulative_sizes == [10, 13]
        assert cat[10]["i"] == 0 and cat[-1]["i"] == 2 and int(cat[9][1]) == 9
        with pytest.raises(ValueError, match="absolute value of index should not exceed "
                                             "dataset length"):
            cat[-14]
        sub = D.Subset(b, [2, 0])
        assert len(sub) == 2 and sub[0]["i"] == 2
        assert [s["i"] for s in sub.__getitems__([1, 0])] == [0, 2]
        st = D.StackDataset(D.Subset(a, [0, 1, 2]), b)
        assert len(st) == 3 and st[1][1]["i"] == 1 and int(st[2][0][1]) == 2
        kw = D.StackDataset(x=b, y=b)
        assert kw[2]["y"]["i"] == 2 and kw.__getitems__([0, 1])[1]["x"]["i"] == 1
        with pytest.raises(ValueError, match="Size mismatch between datasets"):
            D.StackDataset(a, DictData(4, L))
        with pytest.raises(ValueError, match="At least one dataset should be passed"):
            D.StackDataset()
        with pytest.raises(AssertionError, match="Size mismatch between tensors"):
            D.TensorDataset(L.zeros(3), L.zeros(4))
        with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
            D.ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        gd.ConcatDataset([Count(3)])
    chain = Count(2) + Count(3)
    assert isinstance(chain, gd.ChainDataset) and list(chain) == [0, 1, 0, 1, 2]
    assert len(chain) == 5
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement"):
        gd.Dataset()[0]


# ---------------------------------------------------------------- random_split
@needs_torch
@pytest.mark.parametrize("n, lengths", [
    (10, [0.3, 0.3, 0.4]), (5, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (11, [1 / 3] * 3),
    (10, [3, 7]), (3, [0.1, 0.1, 0.8])])
def test_random_split_lengths(n, lengths):
    data = list(range(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = gd.random_split(data, lengths, generator=genesis.Generator().manual_seed(1))
        t = td.random_split(data, lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in g] == [len(s) for s in t]
    items = [x for s in g for x in s]
    assert sorted(items) == data                    # disjoint and covering
    again = gd.random_split(data, lengths, generator=genesis.Generator().manual_seed(1)) \
        if 0 not in [len(s) for s in g] else g
    assert [list(s) for s in again] == [list(s) for s in g]


def test_random_split_errors_and_default_generator():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of "
                                         "the input dataset!"):
        gd.random_split(range(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        gd.random_split(range(5), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        gd.random_split(range(1), [0.5, 0.5])
    genesis.manual_seed(3)
    a = [list(s) for s in gd.random_split(range(20), [0.5, 0.5])]
    genesis.manual_seed(3)
    assert [list(s) for s in gd.random_split(range(20), [0.5, 0.5])] == a
    assert a != [list(range(10)), list(range(10, 20))]


# ---------------------------------------------------------------- samplers
def _gen(s):
    return genesis.Generator().manual_seed(s)


def test_random_samplers():
    data = range(10)
    perm = list(gd.RandomSampler(data, generator=_gen(0)))
    assert sorted(perm) == list(data) and perm != list(data)
    assert perm == list(gd.RandomSampler(data, generator=_gen(0)))
    assert perm != list(gd.RandomSampler(data, generator=_gen(1)))
    long = list(gd.RandomSampler(data, num_samples=25, generator=_gen(0)))
    assert len(long) == 25 and sorted(long[:10]) == sorted(long[10:20]) == list(data)
    assert len(set(long[20:])) == 5
    rep = gd.RandomSampler(data, replacement=True, num_samples=70, generator=_gen(0))
    drawn = list(rep)
    assert len(rep) == len(drawn) == 70 and set(drawn) <= set(data) and len(set(drawn)) > 5
    sub = list(gd.SubsetRandomSampler([3, 5, 7, 9], generator=_gen(2)))
    assert sorted(sub) == [3, 5, 7, 9]
    w = gd.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=_gen(0))
    drawn = list(w)
    assert len(drawn) == len(w) == 50 and set(drawn) == {1, 3}
    assert drawn.count(3) > drawn.count(1)
    w = list(gd.WeightedRandomSampler([1.0, 1.0, 2.0, 0.0], 3, replacement=False,
                                      generator=_gen(0)))
    assert sorted(w) == [0, 1, 2]
    assert isinstance(w[0], int)
    # the default generator drives unseeded samplers
    genesis.manual_seed(5)
    a = list(gd.RandomSampler(data))
    genesis.manual_seed(5)
    assert list(gd.RandomSampler(data)) == a


@needs_torch
@pytest.mark.parametrize("n, bs, drop", [(10, 3, False), (10, 3, True), (9, 3, True),
                                         (2, 5, False), (2, 5, True)])
def test_batch_sampler_vs_torch(n, bs, drop):
    g = gd.BatchSampler(gd.SequentialSampler(range(n)), bs, drop)
    t = td.BatchSampler(td.SequentialSampler(range(n)), bs, drop)
    assert list(g) == list(t) and len(g) == len(t)


@needs_torch
@pytest.mark.parametrize("make", [
    lambda D: D.RandomSampler(range(3), replacement=1),
    lambda D: D.RandomSampler(range(3), num_samples=0),
    lambda D: D.RandomSampler([], num_samples=None),
    lambda D: D.WeightedRandomSampler([1.0], 0),
    lambda D: D.WeightedRandomSampler([1.0], True),
    lambda D: D.WeightedRandomSampler([1.0], 2, replacement=None),
    lambda D: D.WeightedRandomSampler([[1.0]], 2),
    lambda D: D.BatchSampler(range(3), 0, False),
    lambda D: D.BatchSampler(range(3), 2.0, False),
    lambda D: D.BatchSampler(range(3), 2, None),
])
def test_sampler_errors_vs_torch(make):
    with pytest.raises(Exception) as te:
        make(td)
    with pytest.raises(type(te.value), match=f"^{__import__('re').escape(str(te.value))}$"):
        make(gd)


# ---------------------------------------------------------------- DataLoader arguments
@needs_torch
@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(shuffle=True, sampler=[0, 1]), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_size=None, drop_last=True),
    dict(multiprocessing_context="fork"), dict(num_workers=1, multiprocessing_context="nope"),
    dict(num_workers=1, multiprocessing_context=3),
    dict(iterable=True, shuffle=True), dict(iterable=True, sampler=[0]),
    dict(iterable=True, batch_sampler=[[0]]),
])
def test_dataloader_argument_errors_vs_torch(kwargs):
    kwargs = dict(kwargs)
    iterable = kwargs.pop("iterable", False)
    with pytest.raises(Exception) as te:
        td.DataLoader(TorchCount(3) if iterable else list(range(3)), **kwargs)
    with pytest.raises(type(te.value)) as ge:
        gd.DataLoader(Count(3) if iterable else list(range(3)), **kwargs)
    assert str(ge.value) == str(te.value)


def test_dataloader_frozen_attributes_and_defaults():
    dl = gd.DataLoader(list(range(5)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        dl.batch_size = 3
    dl.num_workers = 0                      # other attributes may change
    assert isinstance(dl.sampler, gd.SequentialSampler)
    assert isinstance(dl.batch_sampler, gd.BatchSampler)
    assert dl.collate_fn is gd.default_collate
    nb = gd.DataLoader(list(range(5)), batch_size=None)
    assert nb.batch_sampler is None and nb.collate_fn is gd.default_convert
    assert len(nb) == 5 and [type(x) for x in nb] == [int] * 5
    custom = gd.DataLoader(list(range(5)), batch_sampler=[[0, 4], [1]])
    assert custom.batch_size is None and [b.tolist() for b in custom] == [[0, 4], [1]]
    assert len(custom) == 2
    it = iter(gd.DataLoader(list(range(5)), batch_size=2))
    assert len(it) == 3 and next(it).tolist() == [0, 1]
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true"):
        assert [b.tolist() for b in gd.DataLoader([1, 2], pin_memory=True)] == [[1], [2]]


def test_shuffle_determinism():
    data = list(range(23))

    def epoch(dl):
        return [x for b in dl for x in b.tolist()]
    dl = gd.DataLoader(data, batch_size=5, shuffle=True, generator=_gen(7))
    a, b = epoch(dl), epoch(dl)
    assert sorted(a) == sorted(b) == data and a != data and a != b   # new order per epoch
    dl2 = gd.DataLoader(data, batch_size=5, shuffle=True, generator=_gen(7))
    assert epoch(dl2) == a and epoch(dl2) == b
    assert epoch(gd.DataLoader(data, batch_size=5, shuffle=True, generator=_gen(8))) != a
    genesis.manual_seed(11)
    c = epoch(gd.DataLoader(data, batch_size=5, shuffle=True))
    genesis.manual_seed(11)
    assert epoch(gd.DataLoader(data, batch_size=5, shuffle=True)) == c and sorted(c) == data
    lens = [len(x) for x in gd.DataLoader(data, batch_size=5, shuffle=True, drop_last=True)]
    assert lens == [5, 5, 5, 5]


# ---------------------------------------------------------------- workers
class Probe(gd.Dataset):
    """Samples say which worker made them and what genesis's RNG gave there."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = gd.get_worker_info()
        wid = -1 if info is None else info.id
        seed = -1 if info is None else info.seed
        return {"i": i, "worker": wid, "seed": seed, "r": genesis.rand(2),
                "x": genesis.tensor(arr(3, seed=i)), "tag": TAG.get("tag", "")}


TAG = {}


def _init_worker(wid):
    TAG["tag"] = f"init{wid}"


class Failing(gd.Dataset):
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5 and isinstance(self.exc, Exception):
            raise self.exc
        if i == 6 and self.exc is None:
            os._exit(3)             # a worker that dies
        if i == 7 and self.exc == "slow":
            time.sleep(3)
        return i


@pytest.fixture
def fast_poll(monkeypatch):
    monkeypatch.setattr(_worker, "MP_STATUS_CHECK_INTERVAL", 0.2)


@pytest.fixture(params=["process", "thread"])
def mode(request, monkeypatch):
    if request.param == "thread":
        monkeypatch.setattr(gdl, "_default_context", lambda: None)
    return request.param


def test_workers_match_single_process(mode):
    ds = DictData(11, genesis)
    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
               dict(batch_size=4, shuffle=True, generator=_gen(3))):
        ref = list(gd.DataLoader(ds, num_workers=0, **kw))
        if "generator" in kw:
            kw["generator"] = _gen(3)
        got = list(gd.DataLoader(ds, num_workers=2, **kw))
        assert len(got) == len(ref)
        for a, b in zip(got, ref):
            assert a.keys() == b.keys()
            for k in a:
                if isinstance(a[k], genesis.Tensor):
                    assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
                    np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
                else:
                    assert a[k] == b[k]


def test_worker_info_seeds_and_init_fn(mode):
    assert gd.get_worker_info() is None
    dl = gd.DataLoader(Probe(), batch_size=2, num_workers=2, worker_init_fn=_init_worker,
                       generator=_gen(0))
    batches = list(dl)
    assert [x for b in batches for x in b["i"].tolist()] == list(range(12))
    workers = [b["worker"].tolist() for b in batches]
    assert workers == [[k % 2] * 2 for k in range(6)]          # round-robin
    seeds = {w[0]: b["seed"][0].item() for b, w in zip(batches, workers)}
    assert seeds[1] == seeds[0] + 1
    assert gd.get_worker_info() is None
    if mode == "process":
        # worker_init_fn ran in each worker process, not here
        assert all(b["tag"] == [f"init{w[0]}"] * 2 for b, w in zip(batches, workers))
        assert TAG == {}
        # each worker process seeds genesis's generator with base_seed + worker id
        g = genesis.Generator().manual_seed(seeds[0])
        np.testing.assert_array_equal(batches[0]["r"][0].numpy(),
                                      genesis.rand(2, generator=g).numpy())
        assert not np.array_equal(batches[0]["r"].numpy(), batches[1]["r"].numpy())


def test_worker_info_is_frozen():
    info = _worker.WorkerInfo(id=0, num_workers=1, seed=3, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
        info.id = 2
    assert repr(info) == "WorkerInfo(id=0, num_workers=1, seed=3, dataset=None)"


@pytest.mark.parametrize("exc, match", [
    (ValueError("bad sample 5"), "Caught ValueError in DataLoader worker process 1"),
    (KeyError("k5"), "Caught KeyError in DataLoader worker process 1"),
])
def test_worker_exception_surfaces(mode, exc, match):
    dl = gd.DataLoader(Failing(exc), batch_size=1, num_workers=2)
    it = iter(dl)
    assert [next(it).item() for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(type(exc), match=match) as e:
        next(it)
    text = str(e.value)
    assert "Traceback" in text and "__getitem__" in text and str(exc.args[0]) in text
    assert not text.startswith('"')                 # KeyError text is not repr'd
    assert next(it).item() == 6                     # later batches still come
    del it


def test_worker_death_and_timeout(fast_poll):
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly"):
        list(gd.DataLoader(Failing(None), batch_size=2, num_workers=2))
    dl = gd.DataLoader(Failing("slow"), batch_size=1, num_workers=2, timeout=0.5)
    it = iter(dl)
    assert next(it).item() == 0
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        for _ in range(8):
            next(it)
    it._shutdown_workers()


def test_iterable_workers(mode):
    dl = gd.DataLoader(Count(11), batch_size=2, num_workers=2)
    got = [b.tolist() for b in dl]
    # each worker batches its own share: worker 0 has 0,2,4,..; worker 1 has 1,3,5,..
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    dl = gd.DataLoader(Count(5), batch_size=None, num_workers=2)
    assert sorted(dl) == list(range(5))
    dl = gd.DataLoader(Count(9), batch_size=2, num_workers=2, drop_last=True)
    assert [b.tolist() for b in dl] == [[0, 2], [1, 3], [4, 6], [5, 7]]


def test_persistent_workers_and_out_of_order():
    dl = gd.DataLoader(Count(9), batch_size=2, num_workers=2, persistent_workers=True)
    first = [b.tolist() for b in dl]
    it = dl._iterator
    assert [b.tolist() for b in dl] == first and dl._iterator is it
    assert all(w.is_alive() for w in it._workers)
    it._shutdown_workers()
    assert not any(w.is_alive() for w in it._workers)
    dl = gd.DataLoader(list(range(20)), batch_size=3, num_workers=2, in_order=False)
    assert sorted(x for b in dl for x in b.tolist()) == list(range(20))


def test_workers_shut_down_after_epoch():
    it = iter(gd.DataLoader(list(range(6)), batch_size=2, num_workers=2))
    assert [b.tolist() for b in it] == [[0, 1], [2, 3], [4, 5]]
    assert it._shutdown and not any(w.is_alive() for w in it._workers)


def test_spawned_workers():
    # nothing is inherited: the dataset, the collate_fn and the queues are pickled
    dl = gd.DataLoader(gd.TensorDataset(genesis.arange(7.0)), batch_size=3, num_workers=2,
                       multiprocessing_context="spawn")
    assert [b[0].tolist() for b in dl] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]


def test_unpicklable_batch_is_an_error():
    with pytest.raises(Exception, match="while pickling its batch"):
        list(gd.DataLoader([lambda: 0] * 2, batch_size=None, num_workers=1))
