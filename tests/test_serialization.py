"""Checkpoints (genesis.save/load, save_checkpoint/load_checkpoint) and safetensors:
bit-exact round trips of every supported value, identity of shared tensors, atomic writes,
and clear errors for truncated, corrupt and hostile files. The format is checked against
an independent writer that follows docs/checkpoints.md."""
import errno
import io
import json
import math
import os
import struct
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import genesis
from genesis import serialization as S
from genesis.nn.parameter import Parameter
from oracle import needs_torch, torch

DTYPES = [genesis.bool, genesis.uint8, genesis.int8, genesis.int16, genesis.int32,
          genesis.int64, genesis.float16, genesis.bfloat16, genesis.float32, genesis.float64]


def roundtrip(obj, **kw):
    buf = io.BytesIO()
    genesis.save(obj, buf)
    buf.seek(0)
    return genesis.load(buf, **kw)


def raw(t):
    """A tensor's dtype, shape and exact bytes."""
    a = np.ascontiguousarray(t.detach().numpy())
    return t.dtype, tuple(t.shape), a.reshape(-1).view(np.uint8).tobytes()


def random_tensor(dtype, shape, seed=0):
    """Random bytes as ``dtype`` (all bit patterns, NaN payloads included)."""
    r = np.random.default_rng(seed)
    n = math.prod(shape)
    if dtype is genesis.bool:
        a = r.integers(0, 2, n).astype(np.bool_)
    else:
        a = np.frombuffer(r.bytes(n * dtype.itemsize), dtype.np).copy()
    return genesis.from_numpy(a.reshape(shape)) if hasattr(genesis, "from_numpy") else \
        genesis.tensor(a.reshape(shape))


def assert_same(a, b):
    """Recursive equality that also checks types, key order and tensor bits."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, genesis.Tensor):
        assert raw(a) == raw(b) and a.requires_grad == b.requires_grad
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    elif isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.generic):
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b)
    elif isinstance(a, complex):
        assert_same(a.real, b.real) and assert_same(a.imag, b.imag)
    else:
        assert a == b


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (3, 0, 2), (2, 1, 3, 2)])
def test_tensor_roundtrip_bit_exact(dtype, shape):
    t = random_tensor(dtype, shape)
    r = roundtrip({"t": t})["t"]
    assert type(r) is genesis.Tensor and raw(r) == raw(t) and not r.requires_grad
    assert r.is_contiguous() and r.device == genesis.device("cpu")


def test_float_specials_bit_exact():
    bits = [0x7FC00000, 0x7FC00001, 0xFFC12345, 0x7F800001, 0x7F800000, 0xFF800000,
            0x80000000, 0x00000001]
    t = genesis.tensor(np.array(bits, np.uint32).view(np.float32))
    assert raw(roundtrip(t)) == raw(t)
    bf = genesis.tensor(np.array([0x7FC1, 0xFF81, 0x7F80, 0x8000, 0x0001], np.uint16)
                        .view(genesis.bfloat16.np))
    assert raw(roundtrip(bf)) == raw(bf)


@pytest.mark.parametrize("view", ["transpose", "step", "expand", "offset"])
def test_noncontiguous_saved_contiguous(view):
    base = genesis.arange(24, dtype=genesis.float64).reshape(4, 6)
    t = {"transpose": lambda: base.t(), "step": lambda: base[::2, 1::3],
         "expand": lambda: base[:1].expand(3, 6), "offset": lambda: base[1:, 2:]}[view]()
    r = roundtrip(t)
    assert r.is_contiguous() and np.array_equal(r.numpy(), t.numpy())


def nan_with_payload():
    return struct.unpack("<d", struct.pack("<Q", 0x7FF800000000BEEF))[0]


PY_VALUES = {
    "ints": [0, -1, 2 ** 63, -(2 ** 100), 7],
    "floats": [0.0, -0.0, 1.5, 1e-300, 5e-324, 1e16, math.inf, -math.inf, math.nan,
               nan_with_payload(), 0.1],
    "bools_none": [True, False, None],
    "strings": ["", "héllo ✓", "quote\"back\\slash\nline", "\ud800 lone surrogate", "$"],
    "bytes": [b"", b"\x00\xffab", bytearray(b"xyz")],
    "complex": [1 + 2j, complex(math.inf, -0.0), complex(math.nan, 1)],
    "containers": ([], (), (1,), ((1, 2), [3, (4,)]), {"a": {}}, {"x": [{"y": ()}]},
                   OrderedDict([("b", 1), ("a", 2)]), {1, 2, "3"}, frozenset({(1, 2)})),
    "genesis_values": [genesis.float16, genesis.bfloat16, genesis.bool, genesis.device("cpu"),
                       genesis.device("cuda", 1), genesis.Size([2, 3]), genesis.Size([])],
    "numpy": [np.arange(6, dtype=np.uint32).reshape(2, 3), np.zeros((0, 2), np.complex64),
              np.float64(2.5), np.int8(-3), np.bool_(True), np.float32(math.nan)],
}


@pytest.mark.parametrize("name", list(PY_VALUES))
def test_python_values_roundtrip(name):
    obj = PY_VALUES[name]
    r = roundtrip(obj)
    assert_same(r, obj)


def test_sets_and_genesis_values():
    r = roundtrip(PY_VALUES["containers"])
    assert r[7] == {1, 2, "3"} and type(r[7]) is set and type(r[8]) is frozenset
    d = roundtrip(PY_VALUES["genesis_values"])
    assert d[0] is genesis.float16 and d[1] is genesis.bfloat16 and d[2] is genesis.bool
    assert d[3] == genesis.device("cpu") and d[4] == genesis.device("cuda:1")
    assert type(d[5]) is genesis.Size and d[5] == (2, 3)


def test_numpy_values():
    big_endian = np.arange(3, dtype=">i4")
    r = roundtrip([big_endian, big_endian])
    assert r[0] is r[1] and r[0].tolist() == [0, 1, 2] and r[0].dtype == np.int32
    r = roundtrip(PY_VALUES["numpy"])
    assert r[0].flags.writeable and r[0].dtype == np.uint32
    assert type(r[2]) is np.float64 and type(r[3]) is np.int8 and type(r[4]) is np.bool_
    assert np.isnan(r[5]) and type(r[5]) is np.float32


def test_key_types_roundtrip_exactly():
    d = {"s": 1, 3: "int", -2: None, 2.5: "float", math.inf: 0, True: "bool", None: "none",
         (1, "a", None): "tuple", (): "empty", b"k": "bytes", genesis.float32: "dtype"}
    r = roundtrip(d)
    assert_same(r, d)
    assert [type(k) for k in r] == [str, int, int, float, float, bool, type(None), tuple,
                                    tuple, bytes, genesis.dtype]
    od = OrderedDict([(2, "b"), (1, "a")])
    r = roundtrip({"od": od, "dollar": {"$": "tensor", "x": 1}})
    assert type(r["od"]) is OrderedDict and list(r["od"].items()) == [(2, "b"), (1, "a")]
    assert r["dollar"] == {"$": "tensor", "x": 1}


def test_shared_tensors_restored_shared():
    a = genesis.randn(3, 4)
    alias = a.detach()               # another Tensor object over the same memory
    other = genesis.randn(3, 4)
    r = roundtrip({"a": a, "again": [a, (a,)], "alias": alias, "other": other})
    assert r["again"][0] is r["a"] and r["again"][1][0] is r["a"]
    assert r["alias"] is not r["a"]
    r["a"].add_(1)                   # the alias shares its memory, as it did when saved
    assert np.array_equal(r["alias"].numpy(), r["a"].numpy())
    assert not np.array_equal(r["other"].numpy(), r["a"].numpy())
    # shared memory is written once
    one, two = io.BytesIO(), io.BytesIO()
    genesis.save({"x": a, "y": alias}, one)
    genesis.save({"x": a, "y": a.clone()}, two)
    assert len(one.getvalue()) < len(two.getvalue())


def test_parameters_and_requires_grad():
    p = Parameter(genesis.randn(2, 3))
    frozen = Parameter(genesis.randn(3), requires_grad=False)
    leaf = genesis.randn(4, requires_grad=True)
    loss = (leaf * 2).sum()           # a non-leaf, as in the scheduler guide's checkpoint
    r = roundtrip({"p": p, "frozen": frozen, "leaf": leaf, "loss": loss, "p2": p})
    assert type(r["p"]) is Parameter and r["p"].requires_grad and r["p"] is r["p2"]
    assert type(r["frozen"]) is Parameter and not r["frozen"].requires_grad
    assert type(r["leaf"]) is genesis.Tensor and r["leaf"].requires_grad and r["leaf"].is_leaf
    assert r["loss"].requires_grad and r["loss"].is_leaf and r["loss"].item() == loss.item()
    assert raw(r["p"]) == raw(p)
    (r["p"] * 3).sum().backward()
    assert np.array_equal(r["p"].grad.numpy(), np.full((2, 3), 3, np.float32))


# ---------------------------------------------------------------- what cannot be saved
class Custom:
    pass


class SubTensor(genesis.Tensor):
    pass


@pytest.mark.parametrize("obj, where, what", [
    ({"model": {"fn": lambda x: x}}, r"checkpoint\['model'\]\['fn'\]", "function"),
    ([1, [2, Custom()]], r"checkpoint\[1\]\[1\]", "Custom"),
    ({"t": (1, {3: print})}, r"checkpoint\['t'\]\[1\]\[3\]", "builtin_function_or_method"),
    ({Custom(): 1}, r"checkpoint \(a dict key\)", "Custom"),
    ({"gen": genesis.Generator()}, r"checkpoint\['gen'\]", "Generator"),
    ({"sub": SubTensor(genesis.zeros(2))}, r"checkpoint\['sub'\]", "SubTensor"),
    ({"r": range(3)}, r"checkpoint\['r'\]", "range"),
])
def test_unsaveable_objects_name_type_and_path(obj, where, what):
    with pytest.raises(TypeError, match=where + f": cannot save object of type {what}"):
        genesis.save(obj, io.BytesIO())


def test_unsaveable_arrays_cycles_and_depth():
    with pytest.raises(TypeError, match=r"checkpoint\['a'\]: cannot save a NumPy array of "
                                        "dtype object"):
        genesis.save({"a": np.array([None])}, io.BytesIO())
    cyc = {"x": []}
    cyc["x"].append(cyc)
    with pytest.raises(ValueError, match=r"checkpoint\['x'\]\[0\]: .*reference cycle"):
        genesis.save(cyc, io.BytesIO())
    deep = []
    for _ in range(S.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than"):
        genesis.save(deep, io.BytesIO())
    ok = []
    for _ in range(S.MAX_DEPTH - 1):
        ok = [ok]
    assert roundtrip(ok) == ok


# ---------------------------------------------------------------- files and paths
def test_paths_and_file_objects(tmp_path):
    obj = {"w": genesis.randn(3), "n": 1}
    for f in (str(tmp_path / "a.pt"), tmp_path / "b.pt", os.fsencode(tmp_path / "c.pt")):
        genesis.save(obj, f)
        assert_same(genesis.load(f), obj)
    with open(tmp_path / "d.pt", "wb") as fh:
        genesis.save(obj, fh)
    with open(tmp_path / "d.pt", "rb") as fh:
        assert_same(genesis.load(fh), obj)
    # several checkpoints in one stream, after other bytes
    buf = io.BytesIO()
    buf.write(b"junk")
    genesis.save(obj, buf)
    genesis.save([1, 2], buf)
    buf.seek(4)
    assert_same(genesis.load(buf), obj)
    assert genesis.load(buf) == [1, 2]


class Stream(io.RawIOBase):
    """A readable stream that cannot seek (a pipe, a socket)."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), len(self.data) - self.pos, 7)       # short reads
        b[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


def test_non_seekable_stream():
    obj = {"w": genesis.randn(20, 3)}
    buf = io.BytesIO()
    genesis.save(obj, buf)
    assert_same(genesis.load(Stream(buf.getvalue())), obj)


def test_save_and_load_checkpoint(tmp_path):
    """The scheduler guide's checkpoint pattern."""
    path = tmp_path / "checkpoint.pth"
    x = genesis.randn(3, requires_grad=True)
    ckpt = {"model_state_dict": OrderedDict(weight=genesis.randn(2, 2)),
            "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 0.001, "params": [0]}]},
            "scheduler_state_dict": {"last_epoch": 3, "base_lrs": [0.001]},
            "epoch": 3, "loss": (x * x).sum()}
    genesis.save_checkpoint(ckpt, str(path))
    r = genesis.load_checkpoint(str(path))
    assert_same(r["model_state_dict"], ckpt["model_state_dict"])
    assert r["epoch"] == 3 and r["loss"].item() == ckpt["loss"].item()
    # one format: save/load read each other's files
    assert_same(genesis.load(path)["optimizer_state_dict"], ckpt["optimizer_state_dict"])
    genesis.save([1], path)
    assert genesis.load_checkpoint(path) == [1]
    with pytest.raises(TypeError, match="expects a file path"):
        genesis.save_checkpoint(ckpt, io.BytesIO())


def test_weights_only_and_pickle_arguments_accepted(tmp_path):
    genesis.save([1.5], tmp_path / "w.pt", pickle_protocol=4)
    for wo in (True, False, None):
        assert genesis.load(tmp_path / "w.pt", weights_only=wo) == [1.5]


def test_mmap(tmp_path):
    obj = {"a": random_tensor(genesis.float32, (7, 5)), "b": random_tensor(genesis.bool, (9,)),
           "c": random_tensor(genesis.bfloat16, (0, 3))}
    path = tmp_path / "m.pt"
    genesis.save(obj, path)
    before = path.read_bytes()
    r = genesis.load(path, mmap=True)
    assert_same(r, obj)
    assert r["a"].data_ptr() % S.ALIGN == 0          # the file's alignment reaches memory
    r["a"].add_(1)                                    # copy-on-write: the file is untouched
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        genesis.load(io.BytesIO(before), mmap=True)
    bad = bytearray(before)
    bad[-20] ^= 4                                     # a byte of the data section
    path.write_bytes(bytes(bad))
    with pytest.raises(S.CheckpointError, match="data checksum mismatch"):
        genesis.load(path, mmap=True)
    path.write_bytes(before[:-3])
    with pytest.raises(S.CheckpointError, match="truncated"):
        genesis.load(path, mmap=True)


# ---------------------------------------------------------------- atomic writes
def _files(folder):
    return sorted(os.listdir(folder))


class FailingFile(io.FileIO):
    """A file whose disk fills up after ``limit`` bytes."""
    limit = 100

    def write(self, b):
        if self.tell() + len(memoryview(b)) > self.limit:
            super().write(bytes(memoryview(b)[:max(0, self.limit - self.tell())]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(b)


@pytest.mark.parametrize("failure", ["unsaveable", "disk_full", "fsync", "replace"])
def test_failed_save_keeps_old_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "ckpt.pt"
    genesis.save({"v": 1, "t": genesis.randn(50)}, path)
    old = path.read_bytes()
    obj = {"v": 2, "t": genesis.randn(100)}
    if failure == "unsaveable":
        obj["bad"] = object()
        exc = TypeError
    elif failure == "disk_full":
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: FailingFile(fd, "wb"))
        exc = OSError
    elif failure == "fsync":
        def fsync(fd):
            raise OSError(errno.EIO, "I/O error")
        monkeypatch.setattr(os, "fsync", fsync)
        exc = OSError
    else:
        def replace(a, b):
            raise PermissionError(errno.EACCES, "denied")
        monkeypatch.setattr(os, "replace", replace)
        exc = PermissionError
    with pytest.raises(exc):
        genesis.save_checkpoint(obj, path)
    monkeypatch.undo()
    assert path.read_bytes() == old and _files(tmp_path) == ["ckpt.pt"]
    assert genesis.load(path)["v"] == 1


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FailingFile(fd, "wb"))
    with pytest.raises(OSError, match="No space"):
        genesis.save({"t": genesis.randn(100)}, tmp_path / "new.pt")
    assert _files(tmp_path) == []


def test_file_mode_and_symlink(tmp_path):
    path = tmp_path / "x.pt"
    genesis.save(1, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    genesis.save(2, path)
    assert os.stat(path).st_mode & 0o777 == 0o640 and genesis.load(path) == 2
    link = tmp_path / "link.pt"
    link.symlink_to(path)
    genesis.save(3, link)
    assert link.is_symlink() and genesis.load(path) == 3


# ---------------------------------------------------------------- corrupt and truncated files
def _sample_bytes():
    buf = io.BytesIO()
    genesis.save({"w": random_tensor(genesis.float32, (5, 3)), "b": genesis.tensor([1, 2]),
                  "step": 7, "lr": [0.1, math.nan]}, buf)
    return buf.getvalue()


def test_truncated_anywhere_is_a_clear_error():
    data = _sample_bytes()
    for n in range(len(data)):
        with pytest.raises(S.CheckpointError, match="BytesIO") as e:
            genesis.load(io.BytesIO(data[:n]))
        assert isinstance(e.value, RuntimeError)
    assert "truncated at byte 100 of" in str(pytest.raises(
        S.CheckpointError, genesis.load, io.BytesIO(data[:100])).value)


def test_truncated_and_extended_files_name_the_file(tmp_path):
    data = _sample_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(S.CheckpointError, match=f"{path}: truncated at byte "
                                                f"{len(data) // 2} of {len(data)}"):
        genesis.load(path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(S.CheckpointError, match="1 unexpected bytes after the end"):
        genesis.load(path)
    path.write_bytes(b"")
    with pytest.raises(S.CheckpointError, match="empty"):
        genesis.load(path)


def test_any_corrupt_byte_is_detected():
    data = _sample_bytes()
    messages = set()
    for i in range(len(data)):
        for flip in (0x01, 0x80):
            bad = bytearray(data)
            bad[i] ^= flip
            with pytest.raises(S.CheckpointError) as e:
                genesis.load(io.BytesIO(bytes(bad)))
            messages.add(str(e.value))
    assert any("checksum mismatch" in m for m in messages)
    assert any("bad magic" in m for m in messages)
    assert any("format version" in m for m in messages)


def test_other_formats_are_refused():
    with pytest.raises(S.CheckpointError, match="zip file .*never unpickles"):
        genesis.load(io.BytesIO(b"PK\x03\x04" + bytes(100)))
    with pytest.raises(S.CheckpointError, match="pickle"):
        genesis.load(io.BytesIO(b"\x80\x04\x95" + bytes(100)))
    with pytest.raises(S.CheckpointError, match="bad magic"):
        genesis.load(io.BytesIO(b"hello world, this is text" * 3))


# ---------------------------------------------------------------- the format, independently
def forge(header, data=b"", version=1, hlen=None, dlen=None):
    """A checkpoint written from docs/checkpoints.md alone, with valid checksums."""
    h = header if isinstance(header, bytes) else \
        json.dumps(header, separators=(",", ":")).encode()
    hlen = len(h) if hlen is None else hlen
    dlen = len(data) if dlen is None else dlen
    fields = struct.pack("<8sI", b"\x89GENESIS", version), struct.pack("<QQ", hlen, dlen)
    hcrc = zlib.crc32(h, zlib.crc32(fields[1], zlib.crc32(fields[0])))
    out = fields[0] + struct.pack("<I", hcrc) + fields[1] + h
    pad = bytes(-len(out) % 64)
    return out + pad + data + struct.pack("<I", zlib.crc32(pad + data)) + b"GEND"


def entry(dtype="float32", shape=(2,), offset=0, nbytes=8, device="cpu"):
    return {"dtype": dtype, "shape": list(shape), "offset": offset, "nbytes": nbytes,
            "device": device}


def test_hand_built_checkpoint_loads():
    data = struct.pack("<2f", 1.5, -2.0) + bytes(56) + struct.pack("<3q", 1, -2, 3)
    hdr = {"tensors": [entry(), entry("int64", (3,), 64, 24)],
           "root": {"$": "dict", "keys": [0, "b"],
                    "values": [{"$": "parameter", "obj": 0, "data": 0, "requires_grad": True},
                               [{"$": "tensor", "obj": 1, "data": 1},
                                {"$": "tensor", "obj": 1, "data": 1},
                                {"$": "float", "bits": struct.pack("<d", -math.inf).hex()},
                                {"$": "tuple", "items": []}]]}}
    r = genesis.load(io.BytesIO(forge(hdr, data)))
    assert type(r[0]) is Parameter and r[0].tolist() == [1.5, -2.0]
    assert r["b"][0] is r["b"][1] and r["b"][0].tolist() == [1, -2, 3]
    assert r["b"][2] == -math.inf and r["b"][3] == ()


def test_written_layout_follows_the_spec():
    buf = io.BytesIO()
    genesis.save({"a": genesis.ones(3), "b": genesis.zeros(2, dtype=genesis.int8)}, buf)
    data = buf.getvalue()
    magic, version, hcrc, hlen, dlen = struct.unpack("<8sIIQQ", data[:32])
    assert magic == b"\x89GENESIS" and version == 1
    hdr = json.loads(data[32:32 + hlen])
    start = -(32 + hlen) // 64 * -64
    assert len(data) == start + dlen + 8 and data[-4:] == b"GEND"
    assert data[32 + hlen:start] == bytes(start - 32 - hlen)
    assert hdr["root"] == {"a": {"$": "tensor", "obj": 0, "data": 0},
                           "b": {"$": "tensor", "obj": 1, "data": 1}}
    for e in hdr["tensors"]:
        assert (start + e["offset"]) % 64 == 0
    e = hdr["tensors"][0]
    assert np.array_equal(np.frombuffer(data, "<f4", 3, start + e["offset"]), [1, 1, 1])
    assert forge(hdr, data[start:start + dlen]) == data


HOSTILE = {
    "huge shape": ({"tensors": [entry(shape=[2 ** 50] * 4, nbytes=2 ** 202)], "root": None},
                   "bad shape"),
    "huge shape, consistent": ({"tensors": [entry("uint8", [2 ** 20] * 3, 0, 2 ** 60)],
                                "root": None}, "offsets out of range"),
    "negative size": ({"tensors": [entry(shape=[-2], nbytes=-8)], "root": None}, "bad shape"),
    "float size": ({"tensors": [entry(shape=[2.0])], "root": None}, "bad shape"),
    "too many dims": ({"tensors": [entry(shape=[1] * 65, nbytes=4)], "root": None},
                      "bad shape"),
    "nbytes mismatch": ({"tensors": [entry(nbytes=4)], "root": None},
                        "shape/nbytes inconsistent"),
    "negative offset": ({"tensors": [entry(offset=-64)], "root": None}, "non-negative"),
    "out of range": ({"tensors": [entry(offset=64)], "root": None}, "offsets out of range"),
    "unaligned": ({"tensors": [entry(offset=4, nbytes=4, shape=[1])], "root": None},
                  "aligned"),
    "overlap": ({"tensors": [entry(), entry(nbytes=4, shape=[1])], "root": None}, "overlaps"),
    "unknown dtype": ({"tensors": [entry("float128")], "root": None}, "unknown dtype"),
    "bad device": ({"tensors": [entry(device="tpu:0")], "root": None}, "bad device"),
    "int device": ({"tensors": [entry(device=0)], "root": None}, "bad device"),
    "no root": ({"tensors": []}, "no 'root'"),
    "not a table": ({"tensors": {}, "root": 1}, "no 'tensors' table"),
    "unknown tag": ({"tensors": [], "root": {"$": "pickle", "data": "cos\nsystem"}},
                    "unknown tag 'pickle'"),
    "data index": ({"tensors": [entry()], "root": {"$": "tensor", "obj": 0, "data": 1}},
                   "data index 1 out of range"),
    "obj kind clash": ({"tensors": [entry()], "root": [{"$": "tensor", "obj": 0, "data": 0},
                                                       {"$": "ndarray", "obj": 0, "data": 0}]},
                       "both a tensor and a ndarray"),
    "int requires grad": ({"tensors": [entry("int32", nbytes=8)],
                           "root": {"$": "tensor", "obj": 0, "data": 0,
                                    "requires_grad": True}}, "requires grad"),
    "unhashable key": ({"tensors": [], "root": {"$": "dict", "keys": [[1]], "values": [2]}},
                       "unhashable"),
    "duplicate dict keys": ({"tensors": [], "root": {"$": "dict", "keys": [1, 1],
                                                     "values": [2, 3]}}, "duplicate keys"),
    "keys and values": ({"tensors": [], "root": {"$": "odict", "keys": [1], "values": []}},
                        "1 keys and 0 values"),
    "bad float bits": ({"tensors": [], "root": {"$": "float", "bits": "zz"}},
                       "bad float bits"),
    "bad base64": ({"tensors": [], "root": {"$": "bytes", "base64": "!!"}}, "base64"),
    "bad dtype name": ({"tensors": [], "root": {"$": "dtype", "name": "complex32"}},
                       "unknown dtype"),
    "bad device name": ({"tensors": [], "root": {"$": "device", "name": "gpu"}},
                        "unknown device"),
    "bad size": ({"tensors": [], "root": {"$": "size", "items": [-1]}}, "Size"),
    "missing field": ({"tensors": [], "root": {"$": "tuple"}}, "field 'items'"),
    "deep tree": ({"tensors": [], "root": json.loads("[" * 150 + "]" * 150)},
                  "nested deeper"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_headers_are_refused(case):
    hdr, msg = HOSTILE[case]
    data = bytes(8)
    with pytest.raises(S.CheckpointError, match=msg):
        genesis.load(io.BytesIO(forge(hdr, data)))


@pytest.mark.parametrize("header, msg", [
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    (b'{"tensors": [], "root": NaN}', "not valid JSON"),
    (b'{"tensors": [], "root": 1, "root": 2}', "duplicate key"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b"{", "not valid JSON"),
])
def test_bad_json_headers(header, msg):
    with pytest.raises(S.CheckpointError, match=msg):
        genesis.load(io.BytesIO(forge(header)))


def test_bad_sizes_and_values_are_refused():
    # sizes far beyond the file fail before anything is read or allocated
    for hlen, dlen in ((2 ** 62, None), (None, 2 ** 62)):
        with pytest.raises(S.CheckpointError, match="truncated"):
            genesis.load(io.BytesIO(forge({"tensors": [], "root": 1}, hlen=hlen, dlen=dlen)))
    with pytest.raises(S.CheckpointError, match="format version 7"):
        genesis.load(io.BytesIO(forge({"tensors": [], "root": 1}, version=7)))
    hdr = {"tensors": [entry("bool", (3,), nbytes=3)],
           "root": {"$": "tensor", "obj": 0, "data": 0}}
    with pytest.raises(S.CheckpointError, match="bool data"):
        genesis.load(io.BytesIO(forge(hdr, b"\x00\x01\x02")))


# ---------------------------------------------------------------- map_location
def _cuda_checkpoint():
    """A checkpoint whose tensors were saved from cuda:0."""
    p = S._Payload({"w": genesis.tensor([1.0, 2.0]), "n": np.ones(2)})
    hdr = json.loads(p.header)
    hdr["tensors"][0]["device"] = "cuda:0"
    p.header = json.dumps(hdr).encode()
    buf = io.BytesIO()
    p.write(buf)
    return buf.getvalue()


@pytest.mark.parametrize("map_location", [
    "cpu", genesis.device("cpu"), {"cuda:0": "cpu"}, {genesis.device("cuda:0"): "cpu"},
    lambda storage, loc: storage, lambda storage, loc: None if loc == "cpu" else storage])
def test_map_location_to_cpu(map_location):
    r = genesis.load(io.BytesIO(_cuda_checkpoint()), map_location=map_location)
    assert r["w"].tolist() == [1.0, 2.0] and r["w"].device.type == "cpu"
    assert r["n"].tolist() == [1.0, 1.0]


@pytest.mark.skipif(genesis.cuda.is_available(), reason="CUDA is available here")
def test_map_location_cuda_unavailable():
    data = _cuda_checkpoint()
    for ml in (None, {"cuda:1": "cpu"}):
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA "
                                               "device but genesis.cuda.is_available"):
            genesis.load(io.BytesIO(data), map_location=ml)
    cpu_file = io.BytesIO()
    genesis.save(genesis.ones(2), cpu_file)
    with pytest.raises(RuntimeError, match="map_location=genesis.device\\('cpu'\\)"):
        genesis.load(io.BytesIO(cpu_file.getvalue()), map_location="cuda")


def test_map_location_callable_and_errors():
    seen = []

    def fn(storage, loc):
        seen.append(loc)
        return storage * 2
    r = genesis.load(io.BytesIO(_cuda_checkpoint()), map_location=fn)
    assert seen == ["cuda:0"] and r["w"].tolist() == [2.0, 4.0]
    with pytest.raises(TypeError, match="must return a Tensor or None"):
        genesis.load(io.BytesIO(_cuda_checkpoint()), map_location=lambda s, loc: 3)
    with pytest.raises(RuntimeError, match="shape"):
        genesis.load(io.BytesIO(_cuda_checkpoint()), map_location=lambda s, loc: s[:1])
    with pytest.raises(TypeError, match="map_location should be"):
        genesis.load(io.BytesIO(_cuda_checkpoint()), map_location=1.5)


# ---------------------------------------------------------------- training states
def test_model_optimizer_scheduler_states(tmp_path):
    model = OrderedDict([("0.weight", genesis.randn(4, 3)), ("0.bias", genesis.randn(4)),
                         ("bn.running_mean", genesis.zeros(4)),
                         ("bn.num_batches_tracked", genesis.tensor(5))])
    optim = {"state": {0: {"step": genesis.tensor(3.0), "exp_avg": genesis.randn(4, 3),
                           "exp_avg_sq": genesis.rand(4, 3)},
                       1: {"step": genesis.tensor(3.0), "momentum_buffer": None}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 0, "amsgrad": False, "foreach": None,
                               "params": [0, 1]}]}
    sched = {"last_epoch": 5, "base_lrs": [0.1, 0.01], "_last_lr": [0.05, 0.005],
             "lr_lambdas": [None], "_step_count": 6, "verbose": False,
             "_get_lr_called_within_step": False}
    ckpt = {"model": model, "optimizer": optim, "scheduler": sched, "epoch": 5}
    genesis.save_checkpoint(ckpt, tmp_path / "train.pt")
    r = genesis.load_checkpoint(tmp_path / "train.pt")
    assert_same(r, ckpt)
    assert type(r["model"]) is OrderedDict and list(r["optimizer"]["state"]) == [0, 1]
    assert type(r["optimizer"]["param_groups"][0]["betas"]) is tuple


def test_real_modules_and_optimizer_roundtrip(tmp_path):
    nn, optim = genesis.nn, genesis.optim
    if not (hasattr(nn, "Linear") and hasattr(optim, "Adam")):
        pytest.skip("nn.Linear / optim.Adam are not there yet")
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(genesis.randn(4, 3)).sum().backward()
    opt.step()
    genesis.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "m.pt")
    r = genesis.load(tmp_path / "m.pt")
    assert_same(r["model"], model.state_dict())
    assert_same(r["opt"], opt.state_dict())
    model2 = nn.Linear(3, 2)
    model2.load_state_dict(r["model"])
    assert np.array_equal(model2.weight.detach().numpy(), model.weight.detach().numpy())


def test_rng_state_resumes_bit_for_bit(tmp_path):
    genesis.manual_seed(123)
    genesis.randn(10)
    g = genesis.Generator().manual_seed(9)
    genesis.rand(3, generator=g)
    genesis.save({"rng": genesis.get_rng_state(), "gen": g.get_state()}, tmp_path / "r.pt")
    expect = genesis.randn(50).numpy().copy(), genesis.randint(0, 100, (20,)).numpy().copy()
    expect_g = genesis.rand(8, generator=g).numpy().copy()
    genesis.manual_seed(999)                         # a new run
    r = genesis.load(tmp_path / "r.pt")
    genesis.set_rng_state(r["rng"])
    g2 = genesis.Generator().set_state(r["gen"])
    assert np.array_equal(genesis.randn(50).numpy(), expect[0])
    assert np.array_equal(genesis.randint(0, 100, (20,)).numpy(), expect[1])
    assert np.array_equal(genesis.rand(8, generator=g2).numpy(), expect_g)


# ---------------------------------------------------------------- safetensors
def st_bytes(header, data=b"", pad=True):
    h = header if isinstance(header, bytes) else \
        json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def test_safetensors_roundtrip_all_dtypes(tmp_path):
    tensors = {f"t.{d.name}": random_tensor(d, (3, 2), seed=i) for i, d in enumerate(DTYPES)}
    tensors["scalar"] = genesis.tensor(2.5)
    tensors["empty"] = genesis.zeros(0, 4, dtype=genesis.int16)
    tensors["noncontig"] = genesis.arange(12.0).reshape(3, 4).t()
    path = tmp_path / "w.safetensors"
    S.save_safetensors(tensors, path, metadata={"format": "pt", "note": "ünïcode"})
    r = S.load_safetensors(path)
    assert sorted(r) == sorted(tensors)
    for k, t in tensors.items():
        assert raw(r[k]) == raw(t.contiguous())
    assert_same(genesis.load(path), r)             # genesis.load recognises safetensors
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    hdr = json.loads(data[8:8 + n])
    assert n % 8 == 0 and hdr["__metadata__"] == {"format": "pt", "note": "ünïcode"}
    assert list(hdr)[0] == "__metadata__"
    codes = [hdr[k]["dtype"] for k in list(hdr)[1:]]
    order = ["I64", "F64", "F32", "I32", "BF16", "F16", "I16", "I8", "U8", "BOOL"]
    assert codes == sorted(codes, key=order.index)   # largest alignment first, as the spec's


def test_safetensors_reads_hand_built_file():
    # the layout of the safetensors specification's own example
    data = struct.pack("<6f", 0, 1, 2, 3, 4, 5)
    hdr = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
    f = st_bytes(hdr, data, pad=False)
    r = S.load_safetensors(io.BytesIO(f))
    assert list(r) == ["attn.0"] and r["attn.0"].shape == (1, 2, 3)
    assert r["attn.0"].dtype is genesis.float32 and r["attn.0"].flatten().tolist() == list(
        range(6))
    # any header order, trailing spaces, metadata, several dtypes
    hdr = {"b": {"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]},
           "__metadata__": {"k": "v"},
           "a": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]},
           "c": {"dtype": "BOOL", "shape": [2, 0], "data_offsets": [12, 12]}}
    data = struct.pack("<q", -5) + np.array([1.5, -2], genesis.bfloat16.np).tobytes()
    r = S.load_safetensors(io.BytesIO(st_bytes(hdr, data)))
    assert list(r) == ["a", "b", "c"] and r["a"].item() == -5 and r["c"].shape == (2, 0)
    assert r["b"].float().tolist() == [1.5, -2.0] and r["b"].dtype is genesis.bfloat16


def test_safetensors_written_bytes_exact(tmp_path):
    buf = io.BytesIO()
    S.save_safetensors({}, buf)
    assert buf.getvalue() == struct.pack("<Q", 8) + b"{}" + b" " * 6
    buf = io.BytesIO()
    S.save_safetensors({}, buf, metadata={"framework": "pt"})
    assert buf.getvalue() == struct.pack("<Q", 40) + b'{"__metadata__":{"framework":"pt"}}' + \
        b" " * 5
    buf = io.BytesIO()
    S.save_safetensors({"attn0": genesis.arange(6.0).reshape(1, 1, 2, 3)}, buf)
    hdr = b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'
    assert buf.getvalue() == struct.pack("<Q", 72) + hdr + b" " * 7 + struct.pack(
        "<6f", *range(6))


@needs_torch
def test_safetensors_bytes_match_a_torch_side_writer():
    """A minimal spec-following writer over torch tensors gives the same bytes."""
    rank = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "F64", "I64"]
    codes = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int64: "I64",
             torch.bool: "BOOL", torch.float16: "F16", torch.uint8: "U8"}
    g = torch.Generator().manual_seed(0)
    ts = {"w": torch.randn(3, 4, generator=g), "emb": torch.randn(5, generator=g)
          .to(torch.bfloat16), "idx": torch.tensor([3, -1]), "mask": torch.tensor([True, False]),
          "h": torch.randn(2, 2, generator=g).half(), "b": torch.tensor(7, dtype=torch.uint8),
          "a.b": torch.randn(1, generator=g)}

    def tbytes(t):
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            t = t.view(torch.int16)
        return t.numpy().tobytes()
    items = sorted(ts.items(), key=lambda kv: (-rank.index(codes[kv[1].dtype]), kv[0]))
    header, pos = {"__metadata__": {"format": "pt"}}, 0
    for k, t in items:
        n = len(tbytes(t))
        header[k] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                     "data_offsets": [pos, pos + n]}
        pos += n
    expect = st_bytes(header, b"".join(tbytes(t) for _, t in items))
    mine = {k: genesis.tensor(t.view(torch.int16).numpy()).view(genesis.bfloat16)
            if t.dtype == torch.bfloat16 else genesis.tensor(t.numpy()) for k, t in ts.items()}
    buf = io.BytesIO()
    S.save_safetensors(mine, buf, metadata={"format": "pt"})
    assert buf.getvalue() == expect
    back = S.load_safetensors(io.BytesIO(expect))
    for k, t in ts.items():
        assert raw(back[k])[2] == tbytes(t)


ST_BAD = {
    "too small": (b"\x05\x00", "truncated at byte 2 of at least 8"),
    "header too large": (struct.pack("<Q", 10 ** 9) + b"{}", "larger than"),
    "header past end": (struct.pack("<Q", 100) + b"{}", "runs past the end"),
    "not json": (st_bytes(b"{nope}"), "not valid JSON"),
    "not an object": (st_bytes(b"[1, 2]"), "not a JSON object"),
    "duplicate names": (st_bytes(b'{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]},'
                                 b'"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}',
                                 b"\x01"), "duplicate key"),
    "unknown dtype": (st_bytes({"a": {"dtype": "F8_E4M3", "shape": [1],
                                      "data_offsets": [0, 1]}}, b"\x00"), "unsupported dtype"),
    "gap": (st_bytes({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}, b"\x00\x00"),
            "invalid data_offsets"),
    "overlap": (st_bytes({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
                          "b": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}},
                         b"\x00\x00"), "invalid data_offsets"),
    "size mismatch": (st_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}},
                               bytes(4)), "need 8 bytes"),
    "huge shape": (st_bytes({"a": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40],
                                   "data_offsets": [0, 2 ** 82]}}), "truncated"),
    "negative shape": (st_bytes({"a": {"dtype": "F32", "shape": [-1],
                                       "data_offsets": [0, 0]}}), "bad shape"),
    "missing data": (st_bytes({"a": {"dtype": "F64", "shape": [4], "data_offsets": [0, 32]}},
                              bytes(8)), "truncated"),
    "bad metadata": (st_bytes({"__metadata__": {"a": 1}}), "__metadata__"),
    "extra field": (st_bytes({"a": {"dtype": "U8", "shape": [], "data_offsets": [0, 1],
                                    "x": 1}}, b"\x00"), "expected fields"),
    "bad offsets": (st_bytes({"a": {"dtype": "U8", "shape": [], "data_offsets": [0]}}),
                    "data_offsets must be"),
    "bool bytes": (st_bytes({"a": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}},
                            b"\x07"), "bool data"),
}


@pytest.mark.parametrize("case", list(ST_BAD))
def test_safetensors_validation(case, tmp_path):
    data, msg = ST_BAD[case]
    with pytest.raises(S.CheckpointError, match=msg):
        S.load_safetensors(io.BytesIO(data))


def test_safetensors_path_errors_and_arguments(tmp_path):
    path = tmp_path / "x.safetensors"
    S.save_safetensors({"a": genesis.ones(2)}, path)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(S.CheckpointError, match=f"{path}: 1 unexpected bytes"):
        S.load_safetensors(path)
    with pytest.raises(TypeError, match="metadata"):
        S.save_safetensors({"a": genesis.ones(2)}, path, metadata={"a": 1})
    with pytest.raises(TypeError, match="str to Tensor"):
        S.save_safetensors({"a": np.ones(2)}, path)
    with pytest.raises(ValueError, match="reserved"):
        S.save_safetensors({"__metadata__": genesis.ones(1)}, path)
    if not genesis.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            S.load_safetensors(io.BytesIO(st_bytes({})), device="cuda")
