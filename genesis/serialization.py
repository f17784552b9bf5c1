"""Checkpoints: ``save``/``load`` with torch.save/torch.load's contract,
``save_checkpoint``/``load_checkpoint``, and the safetensors format.

Checkpoints are data, never code (DESIGN.md): a file is a JSON header that describes the
object tree, then the raw little-endian bytes of its tensors, each 64-byte aligned, and
CRC32 checksums over both. Nothing is ever unpickled; a file that is truncated, corrupt or
malformed raises CheckpointError before anything is built from it. docs/checkpoints.md
specifies the format.
"""
import base64
import io
import json
import math
import mmap as _mmap
import os
import stat
import struct
import sys
import tempfile
import zlib
from collections import Counter, OrderedDict

import numpy as np

from . import dtypes as _dt
from .device import device as _device, to_device
from .tensor import Tensor, Size, _make

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint"]

MAGIC = b"\x89GENESIS"
END = b"GEND"
VERSION = 1
ALIGN = 64                      # every tensor starts 64-byte aligned in the file
MAX_DEPTH = 100                 # nesting of containers in a checkpoint
MAX_NDIM = 64
_MAX_DIM = 1 << 48              # no real dimension comes near; keeps NumPy's checks quiet
_PREFIX = struct.Struct("<8sIIQQ")   # magic, version, header crc, header bytes, data bytes
_TRAILER = struct.Struct("<I4s")     # data crc, END
_CHUNK = 1 << 24
_BIG_ENDIAN = sys.byteorder == "big"

# dtypes a tensor may have; NumPy arrays may also hold the extra ones below
_TENSOR_DTYPES = {d.name: d for d in _dt.ALL}
_NP_DTYPES = {name: d.np for name, d in _TENSOR_DTYPES.items()}
_NP_DTYPES.update((n, np.dtype(n)) for n in ("uint16", "uint32", "uint64", "complex64",
                                               "complex128"))
_NP_NAMES = {v: k for k, v in _NP_DTYPES.items()}


class CheckpointError(RuntimeError):
    """A checkpoint or safetensors file that is truncated, corrupt or malformed."""


def _align(n):
    return -(-n // ALIGN) * ALIGN


def _le(a):
    """The file holds little-endian bytes; swap on a big-endian host (a no-op here)."""
    if _BIG_ENDIAN and a.itemsize > 1:
        a = a.view(f"u{a.itemsize}").byteswap().view(a.dtype)
    return a


def _contig(a):
    # np.ascontiguousarray would turn a 0-d array into a 1-d one
    return a if a.flags.c_contiguous else np.array(a, order="C")


def _is_path(f):
    return isinstance(f, (str, bytes, os.PathLike))


def _float_bits(x):
    return struct.pack("<d", x).hex()


# ---------------------------------------------------------------- encoding
def _where(path):
    """``checkpoint['model'][3]`` for a path chain (parent, key) built while encoding."""
    keys = []
    while path is not None:
        path, k = path
        keys.append(k)
    s = "checkpoint"
    for k in reversed(keys):
        s += " (a dict key)" if k is _KEY else f"[{k!r}]"
    return s


_KEY = object()      # marks "the key of this entry" in a path


class _Encoder:
    """Turns an object tree into a JSON-able header tree plus the arrays to write."""

    def __init__(self):
        from .nn.parameter import Parameter     # nn sits above this module's imports
        self.Parameter = Parameter
        self.entries = []        # the header's "tensors" table
        self.arrays = []         # contiguous host arrays, in entry order
        self.data_of = {}        # memory identity -> entry index (shared memory is saved once)
        self.objs = {}           # id(tensor or ndarray) -> its node (same object, same node)
        self.keep = []           # keeps keyed arrays alive so that their addresses stay unique
        self.active = set()      # containers being encoded (cycle check)
        self.size = 0

    def data(self, arr, be, device):
        """The entry index of backend array ``arr``'s bytes, adding it if new."""
        if isinstance(arr, np.ndarray):
            key = (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype)
        else:
            key = id(arr)
        i = self.data_of.get(key)
        if i is None:
            self.keep.append(arr)
            host = _contig(be.to_host(arr) if be is not None else arr)
            off = _align(self.size)
            self.size = off + host.nbytes
            i = self.data_of[key] = len(self.entries)
            self.entries.append({"dtype": _NP_NAMES[host.dtype], "shape": list(host.shape),
                                 "offset": off, "nbytes": host.nbytes, "device": device})
            self.arrays.append(host)
        return i

    def enc(self, obj, path, depth):
        t = type(obj)
        if t is str or t is int or t is bool or obj is None:
            return obj
        if t is float:
            return obj if math.isfinite(obj) else {"$": "float", "bits": _float_bits(obj)}
        if depth >= MAX_DEPTH:
            raise ValueError(f"{_where(path)}: containers nested deeper than {MAX_DEPTH} "
                             "levels cannot be saved")
        if t is Tensor or t is self.Parameter:
            return self.tensor(obj, path)
        if getattr(t, "_checkpoint_as_list", False):    # get_last_lr()'s LRList: a list
            t = list
        if t in _CONTAINERS:
            if id(obj) in self.active:
                raise ValueError(f"{_where(path)}: the object contains itself (a reference "
                                 "cycle) and cannot be saved")
            self.active.add(id(obj))
            try:
                return _CONTAINERS[t](self, obj, path, depth + 1)
            finally:
                self.active.discard(id(obj))
        if isinstance(obj, np.ndarray):
            return self.ndarray(obj, path)
        if isinstance(obj, np.generic) and obj.dtype in _NP_NAMES:
            return {"$": "npscalar", "data": self.data(np.asarray(obj), None, "cpu")}
        if t is Size:
            return {"$": "size", "items": [int(s) for s in obj]}
        if t is _dt.dtype:
            return {"$": "dtype", "name": obj.name}
        if t is _device:
            return {"$": "device", "name": str(obj)}
        if t is complex:
            return {"$": "complex", "real": self.enc(obj.real, path, depth),
                    "imag": self.enc(obj.imag, path, depth)}
        if t is bytes or t is bytearray:
            return {"$": t.__name__, "base64": base64.b64encode(obj).decode("ascii")}
        raise TypeError(f"{_where(path)}: cannot save object of type {t.__name__} (a "
                        "checkpoint holds dicts, lists, tuples, sets, numbers, strings, bytes, "
                        "None, tensors, NumPy arrays, dtypes and devices; genesis never "
                        "pickles)")

    def tensor(self, t, path):
        node = self.objs.get(id(t))
        if node is None:
            kind = "parameter" if type(t) is self.Parameter else "tensor"
            node = {"$": kind, "obj": len(self.objs),
                    "data": self.data(t._data, t._be, str(t.device))}
            if t.requires_grad or kind == "parameter":
                node["requires_grad"] = t.requires_grad
            self.objs[id(t)] = node
            self.keep.append(t)
        return node

    def ndarray(self, a, path):
        node = self.objs.get(id(a))
        if node is None:
            obj = a
            if not a.dtype.isnative:             # the file is little-endian anyway
                a = a.astype(a.dtype.newbyteorder("="))
            if a.dtype not in _NP_NAMES:
                raise TypeError(f"{_where(path)}: cannot save a NumPy array of dtype {a.dtype} "
                                f"(supported: {', '.join(_NP_DTYPES)})")
            node = {"$": "ndarray", "obj": len(self.objs), "data": self.data(a, None, "cpu")}
            self.objs[id(obj)] = node
            self.keep.append(obj)
        return node

    def items(self, tag, d, path, depth):
        keys, values = [], []
        for k, v in d.items():
            keys.append(self.enc(k, (path, _KEY), depth))
            values.append(self.enc(v, (path, k), depth))
        return {"$": tag, "keys": keys, "values": values}

    def seq(self, tag, s, path, depth):
        return {"$": tag, "items": [self.enc(v, (path, i), depth) for i, v in enumerate(s)]}


def _enc_dict(e, d, path, depth):
    # a dict of string keys is a plain JSON object; any other dict is tagged
    if "$" not in d and all(type(k) is str for k in d):
        return {k: e.enc(v, (path, k), depth) for k, v in d.items()}
    return e.items("dict", d, path, depth)


def _enc_odict(e, d, path, depth):
    node = e.items("odict", d, path, depth)
    meta = getattr(d, "_metadata", None)
    if meta is not None:     # a Module state_dict's versions, as torch.save keeps them
        node["metadata"] = e.enc(meta, (path, "_metadata"), depth)
    return node


_CONTAINERS = {
    dict: _enc_dict,
    OrderedDict: lambda e, d, p, n: _enc_odict(e, d, p, n),
    Counter: lambda e, d, p, n: e.items("counter", d, p, n),   # MultiStepLR's milestones
    list: lambda e, s, p, n: [e.enc(v, (p, i), n) for i, v in enumerate(s)],
    tuple: lambda e, s, p, n: e.seq("tuple", s, p, n),
    set: lambda e, s, p, n: e.seq("set", s, p, n),
    frozenset: lambda e, s, p, n: e.seq("frozenset", s, p, n),
}


class _Payload:
    """An encoded checkpoint, ready to be written."""

    def __init__(self, obj):
        e = _Encoder()
        root = e.enc(obj, None, 0)
        self.header = json.dumps({"tensors": e.entries, "root": root}, separators=(",", ":"),
                                 allow_nan=False).encode("utf-8")
        self.entries, self.arrays, self.size = e.entries, e.arrays, e.size

    def write(self, f):
        h = self.header
        pre = _PREFIX.pack(MAGIC, VERSION, 0, len(h), self.size)
        hcrc = zlib.crc32(h, zlib.crc32(pre[16:], zlib.crc32(pre[:12])))
        f.write(_PREFIX.pack(MAGIC, VERSION, hcrc, len(h), self.size))
        f.write(h)
        pad = bytes(_align(_PREFIX.size + len(h)) - _PREFIX.size - len(h))
        f.write(pad)
        crc = zlib.crc32(pad)
        pos = 0
        for ent, a in zip(self.entries, self.arrays):
            gap = bytes(ent["offset"] - pos)
            f.write(gap)
            crc = zlib.crc32(gap, crc)
            raw = memoryview(_le(a).reshape(-1).view(np.uint8))
            f.write(raw)
            crc = zlib.crc32(raw, crc)
            pos = ent["offset"] + ent["nbytes"]
        f.write(_TRAILER.pack(crc, END))


# ---------------------------------------------------------------- atomic writes
def _new_file_mode():
    """0o666 less the umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status") as s:
            for line in s:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_write(path, write):
    """Write a file through ``write(f)`` into a temporary file in the same folder, sync it
    and rename it over ``path``: a failure at any point leaves the old file as it was."""
    path = os.fsdecode(os.fspath(path))
    if os.path.islink(path):
        path = os.path.realpath(path)           # replace the file, keep the link
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                        # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------- reading
class _Source:
    """A binary file object to read a file from, with the byte count it holds from the
    current position and a name for messages."""

    def __init__(self, f, name, exact):
        self.name, self.exact = name, exact
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        self.f = f
        self.start = f.tell()
        self.avail = f.seek(0, os.SEEK_END) - self.start
        f.seek(self.start)

    def error(self, what):
        return CheckpointError(f"{self.name}: {what}")

    def need(self, total):
        if self.avail < total:
            raise self.error(f"truncated at byte {self.avail} of {total} (the file is shorter "
                             "than its header says; it may be corrupt)")
        if self.exact and self.avail > total:
            raise self.error(f"{self.avail - total} unexpected bytes after the end of the data "
                             f"({total} bytes expected, {self.avail} found)")

    def read(self, n):
        """n bytes (sizes are checked against avail first; this guards a file that shrinks
        while it is read)."""
        b = self.f.read(n)
        if len(b) != n:
            raise self.error(f"truncated at byte {self.f.tell() - self.start}")
        return b

    def skip(self, n, crc):
        """Read n bytes into the checksum only."""
        while n:
            b = self.read(min(n, _CHUNK))
            crc = zlib.crc32(b, crc)
            n -= len(b)
        return crc

    def read_array(self, n, crc):
        """n bytes into a fresh writable uint8 array (n is already checked against avail)."""
        a = np.empty(n, np.uint8)
        mv, got = memoryview(a), 0
        while got < n:
            k = self.f.readinto(mv[got:got + _CHUNK])
            if not k:
                raise self.error(f"truncated at byte {self.f.tell() - self.start}")
            got += k
        return a, zlib.crc32(a, crc)


def _name_of(f):
    if _is_path(f):
        return os.fsdecode(os.fspath(f))
    n = getattr(f, "name", None)
    return n if isinstance(n, str) else f"<{type(f).__name__}>"


def _json(text, err):
    def pairs(kv):
        d = dict(kv)
        if len(d) != len(kv):
            raise ValueError("duplicate key in a JSON object")
        return d

    def constant(c):
        raise ValueError(f"{c} is not JSON")
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=pairs,
                          parse_constant=constant)
    except RecursionError:
        raise err("the header is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise err(f"the header is not valid JSON ({e})") from None


def _int(x):
    return type(x) is int


def _shape(shape, err, what):
    if type(shape) is not list or len(shape) > MAX_NDIM or \
            not all(_int(s) and 0 <= s <= _MAX_DIM for s in shape):
        raise err(f"{what}: bad shape {str(shape)[:80]} (a list of at most {MAX_NDIM} "
                  "non-negative ints)")
    return math.prod(shape)


def _entries(hdr, dlen, err):
    """Validate the header's tensor table against the data length, before any allocation."""
    ents = hdr.get("tensors") if type(hdr) is dict else None
    if type(ents) is not list or "root" not in hdr:
        raise err("the header has no 'tensors' table or no 'root'")
    spans = []
    for i, e in enumerate(ents):
        what = f"tensor entry {i}"
        if type(e) is not dict:
            raise err(f"{what} is not an object")
        name = e.get("dtype")
        if type(name) is not str or name not in _NP_DTYPES:
            raise err(f"{what}: unknown dtype {str(name)[:40]!r}")
        numel = _shape(e.get("shape"), err, what)
        off, nb = e.get("offset"), e.get("nbytes")
        if not (_int(off) and _int(nb) and off >= 0 and nb >= 0):
            raise err(f"{what}: offset and nbytes must be non-negative ints")
        if nb != numel * _NP_DTYPES[name].itemsize:
            raise err(f"{what}: shape {e['shape']} and dtype {name} need "
                      f"{numel * _NP_DTYPES[name].itemsize} bytes but nbytes is {nb} (shape/"
                      "nbytes inconsistent)")
        if off % ALIGN or off + nb > dlen:
            raise err(f"{what}: offsets out of range (bytes {off}..{off + nb} of a "
                      f"{dlen}-byte data section, {ALIGN}-byte aligned)")
        try:
            ok = type(e.get("device")) is str and to_device(e["device"])
        except RuntimeError:
            ok = False
        if not ok:
            raise err(f"{what}: bad device {str(e.get('device'))[:40]!r}")
        spans.append((off, nb, i))
    spans.sort()
    end = 0
    for off, nb, i in spans:
        if off < end:
            raise err(f"tensor entry {i} overlaps the one before it (offset {off} < {end})")
        end = off + nb
    return ents, spans


def _finish_array(u8, ent, err, i):
    a = _le(u8.view(_NP_DTYPES[ent["dtype"]])).reshape(ent["shape"])
    if ent["dtype"] == "bool" and u8.size and u8.max() > 1:
        raise err(f"tensor entry {i}: bool data holds bytes other than 0 and 1")
    return a


def _read_checkpoint(src, use_mmap):
    """Validate and read a checkpoint from ``src``; returns (header, arrays)."""
    err = src.error
    pre = src.f.read(_PREFIX.size)
    if not pre:
        raise err("the file is empty")
    if len(pre) < _PREFIX.size or pre[:8] != MAGIC:
        if len(pre) >= 9 and pre[8:9] == b"{":
            return None, None                        # a safetensors file: the caller reads it
        if pre[:len(MAGIC)] != MAGIC[:len(pre)]:
            raise err(_not_ours(pre))
        raise err(f"truncated at byte {len(pre)} of at least {_PREFIX.size}")
    _, version, hcrc, hlen, dlen = _PREFIX.unpack(pre)
    if version != VERSION:
        raise err(f"unsupported checkpoint format version {version} (this genesis reads "
                  f"version {VERSION})")
    data_start = _align(_PREFIX.size + hlen)
    total = data_start + dlen + _TRAILER.size
    if _PREFIX.size + hlen > src.avail:
        src.need(total)
    header = src.read(hlen)
    if zlib.crc32(header, zlib.crc32(pre[16:], zlib.crc32(pre[:12]))) != hcrc:
        raise err("header checksum mismatch (the file is corrupt)")
    src.need(total)
    hdr = _json(header, err)
    ents, spans = _entries(hdr, dlen, err)
    arrays = [None] * len(ents)
    if use_mmap:
        mm = _mmap.mmap(src.f.fileno(), 0, access=_mmap.ACCESS_COPY)
        base = src.start + data_start
        with memoryview(mm) as mv:              # padding after the header, then the data
            crc = zlib.crc32(mv[src.start + _PREFIX.size + hlen:base + dlen])
        for off, nb, i in spans:
            arrays[i] = np.frombuffer(mm, np.uint8, nb, base + off) if nb else \
                np.empty(0, np.uint8)
        src.f.seek(src.start + data_start + dlen)
    else:
        crc = src.skip(data_start - _PREFIX.size - hlen, 0)
        pos = 0
        for off, nb, i in spans:
            crc = src.skip(off - pos, crc)
            u8, crc = src.read_array(nb, crc)
            arrays[i] = u8
            pos = off + nb
        crc = src.skip(dlen - pos, crc)
    dcrc, end = _TRAILER.unpack(src.read(_TRAILER.size))
    if end != END:
        raise err(f"bad end marker {end!r} (the file is corrupt or truncated)")
    if dcrc != crc:
        raise err("data checksum mismatch (the tensor bytes are corrupt)")
    # the arrays get their dtypes and shapes once the checksum has passed
    return hdr, [_finish_array(a, ents[i], err, i) for i, a in enumerate(arrays)]


def _not_ours(pre):
    if pre[:4] == b"PK\x03\x04":
        return ("not a genesis checkpoint: this is a zip file (PyTorch's torch.save format?); "
                "genesis never unpickles, so convert the weights to safetensors and use "
                "genesis.serialization.load_safetensors")
    if pre[:1] == b"\x80":
        return "not a genesis checkpoint: this looks like a pickle; genesis never unpickles"
    return f"not a genesis checkpoint (bad magic {pre[:8]!r}, expected {MAGIC!r})"


# ---------------------------------------------------------------- decoding
def _cuda_available():
    try:
        from . import cuda
        return bool(cuda.is_available())
    except Exception:            # no CUDA module or driver: not available
        return False


def _placer(map_location):
    """A function (host tensor, saved location) -> tensor where map_location puts it."""
    if map_location is None:
        return lambda t, loc: _move(t, loc)
    if isinstance(map_location, (str, _device)):
        target = str(to_device(map_location))
        return lambda t, loc: _move(t, target)
    if isinstance(map_location, dict):
        table = {str(k): str(v) for k, v in map_location.items()}
        return lambda t, loc: _move(t, table.get(loc, loc))
    if callable(map_location):
        def place(t, loc):
            r = map_location(t, loc)
            if r is None:
                return _move(t, loc)
            if not isinstance(r, Tensor):
                raise TypeError(f"map_location returned a {type(r).__name__}; it must return "
                                "a Tensor or None")
            if tuple(r.shape) != tuple(t.shape) or r.dtype is not t.dtype:
                raise RuntimeError(f"map_location returned a tensor of shape "
                                   f"{list(r.shape)} and dtype {r.dtype} for one of shape "
                                   f"{list(t.shape)} and dtype {t.dtype}")
            return r
        return place
    raise TypeError(f"map_location should be None, a string, a genesis.device, a dict or a "
                    f"callable, got {type(map_location).__name__}")


def _move(t, loc):
    dev = _check_device(loc)
    return t if dev.type == "cpu" else t.to(dev)


def _check_device(loc):
    """The device named ``loc``; torch's error when it is a CUDA one and CUDA is missing."""
    dev = to_device(loc)
    if dev.type == "cuda" and not _cuda_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "genesis.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use genesis.load with "
                           "map_location=genesis.device('cpu') to map your storages to the "
                           "CPU.")
    return dev


class _Decoder:
    def __init__(self, ents, arrays, place, err):
        from .nn.parameter import Parameter
        self.Parameter = Parameter
        self.ents, self.arrays, self.place, self.err = ents, arrays, place, err
        self.placed = {}         # entry -> tensor where map_location put it
        self.used = set()        # entries already given to a tensor object
        self.objs = {}           # obj number -> the object built for it

    def bad(self, what):
        return self.err(f"malformed header: {what}")

    def dec(self, node, depth):
        t = type(node)
        if t is str or t is int or t is bool or t is float or node is None:
            return node
        if depth >= MAX_DEPTH:
            raise self.bad(f"containers nested deeper than {MAX_DEPTH} levels")
        if t is list:
            return [self.dec(x, depth + 1) for x in node]
        if t is not dict:
            raise self.bad(f"unexpected JSON value of type {t.__name__}")
        if "$" not in node:
            return {k: self.dec(v, depth + 1) for k, v in node.items()}
        tag = node["$"]
        fn = _TAGS.get(tag) if type(tag) is str else None
        if fn is None:
            raise self.bad(f"unknown tag {str(tag)[:40]!r}")
        return fn(self, node, depth + 1)

    def field(self, node, key, types):
        v = node.get(key)
        if type(v) not in types:
            raise self.bad(f"a {node.get('$')!r} node needs field {key!r} of type "
                           f"{'/'.join(t.__name__ for t in types)}")
        return v

    def seq(self, node, depth):
        return [self.dec(x, depth) for x in self.field(node, "items", (list,))]

    def mapping(self, node, depth, cls):
        keys = self.field(node, "keys", (list,))
        values = self.field(node, "values", (list,))
        if len(keys) != len(values):
            raise self.bad(f"a {node['$']!r} node has {len(keys)} keys and {len(values)} values")
        d = cls()
        for k, v in zip(keys, values):
            try:
                d[self.dec(k, depth)] = self.dec(v, depth)
            except TypeError:
                raise self.bad("a dict key is unhashable") from None
        if len(d) != len(keys):
            raise self.bad("a dict has duplicate keys")
        return d

    def odict(self, node, depth):
        out = self.mapping(node, depth, OrderedDict)
        if "metadata" in node:
            out._metadata = self.dec(node["metadata"], depth)
        return out

    def hashables(self, node, depth, cls):
        try:
            return cls(self.seq(node, depth))
        except TypeError:
            raise self.bad("a set holds an unhashable item") from None

    def entry(self, node):
        i = self.field(node, "data", (int,))
        if not 0 <= i < len(self.arrays):
            raise self.bad(f"tensor data index {i} out of range")
        return i

    def obj(self, node, kind, build):
        k = self.field(node, "obj", (int,))
        hit = self.objs.get(k)
        if hit is None:
            hit = self.objs[k] = (kind, build())
        elif hit[0] != kind:
            raise self.bad(f"object {k} is both a {hit[0]} and a {kind}")
        return hit[1]

    def tensor(self, node, kind):
        i = self.entry(node)
        if self.ents[i]["dtype"] not in _TENSOR_DTYPES:
            raise self.bad(f"a tensor of dtype {self.ents[i]['dtype']}")
        rg = node.get("requires_grad", kind == "parameter")
        if type(rg) is not bool:
            raise self.bad("requires_grad must be true or false")
        if rg and not _TENSOR_DTYPES[self.ents[i]["dtype"]].is_floating_point:
            raise self.bad(f"a {self.ents[i]['dtype']} tensor that requires grad")

        def build():
            base = self.placed.get(i)
            if base is None:
                base = self.placed[i] = self.place(_make(self.arrays[i]), self.ents[i]["device"])
            # tensors that shared memory when saved share it again
            t = base.detach() if i in self.used or base.requires_grad else base
            self.used.add(i)
            if kind == "parameter":
                return self.Parameter(t, rg)
            if rg:
                t.requires_grad_(True)
            return t
        return self.obj(node, kind, build)

    def ndarray(self, node):
        i = self.entry(node)
        return self.obj(node, "ndarray", lambda: self.arrays[i])

    def npscalar(self, node):
        a = self.arrays[self.entry(node)]
        if a.ndim:
            raise self.bad("a NumPy scalar with a shape")
        return a[()]

    def float_bits(self, node):
        bits = self.field(node, "bits", (str,))
        try:
            raw = bytes.fromhex(bits)
        except ValueError:
            raw = b""
        if len(raw) != 8:
            raise self.bad(f"bad float bits {bits[:20]!r}")
        return struct.unpack("<d", raw)[0]

    def blob(self, node, cls):
        try:
            return cls(base64.b64decode(self.field(node, "base64", (str,)), validate=True))
        except ValueError:
            raise self.bad("bad base64 bytes") from None

    def named(self, node, fn, what):
        name = self.field(node, "name", (str,))
        try:
            return fn(name)
        except (KeyError, TypeError, RuntimeError):
            raise self.bad(f"unknown {what} {name[:40]!r}") from None

    def number(self, node, key, depth):
        v = node.get(key)
        v = self.dec(v, depth) if type(v) is dict else v
        if type(v) not in (int, float):
            raise self.bad(f"a complex number's {key} must be a number")
        return float(v)


_TAGS = {
    "dict": lambda d, n, k: d.mapping(n, k, dict),
    "odict": lambda d, n, k: d.odict(n, k),
    "counter": lambda d, n, k: d.mapping(n, k, Counter),
    "tuple": lambda d, n, k: tuple(d.seq(n, k)),
    "set": lambda d, n, k: d.hashables(n, k, set),
    "frozenset": lambda d, n, k: d.hashables(n, k, frozenset),
    "size": lambda d, n, k: Size(_size_items(d, n)),
    "tensor": lambda d, n, k: d.tensor(n, "tensor"),
    "parameter": lambda d, n, k: d.tensor(n, "parameter"),
    "ndarray": lambda d, n, k: d.ndarray(n),
    "npscalar": lambda d, n, k: d.npscalar(n),
    "float": lambda d, n, k: d.float_bits(n),
    "complex": lambda d, n, k: complex(d.number(n, "real", k), d.number(n, "imag", k)),
    "bytes": lambda d, n, k: d.blob(n, bytes),
    "bytearray": lambda d, n, k: d.blob(n, bytearray),
    "dtype": lambda d, n, k: d.named(n, _TENSOR_DTYPES.__getitem__, "dtype"),
    "device": lambda d, n, k: d.named(n, _device, "device"),
}


def _size_items(d, node):
    items = d.field(node, "items", (list,))
    if not all(_int(s) and s >= 0 for s in items):
        raise d.bad("a Size holds something other than non-negative ints")
    return items


# ---------------------------------------------------------------- public API
def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (nested containers, numbers, strings, tensors, ...) to ``f``, a path or
    a writable binary file object. A path is written atomically: a failed save leaves the
    file that was there. The pickle arguments are accepted for compatibility and ignored:
    genesis never pickles."""
    payload = _Payload(obj)          # an unsaveable object raises before any file is touched
    if _is_path(f):
        _atomic_write(f, payload.write)
    else:
        payload.write(f)
        if hasattr(f, "flush"):
            f.flush()


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load what ``save`` wrote (or a safetensors file, as a dict of tensors) from a path or
    a readable binary file object. ``map_location`` moves tensors as torch.load's does: a
    device or string, a dict {saved: target}, or a callable (tensor, saved_location) ->
    tensor or None. ``mmap=True`` maps a file's tensors instead of reading them (copy on
    write). Loading never runs code, so ``weights_only`` changes nothing."""
    name = _name_of(f)
    place = _placer(map_location)
    if _is_path(f):
        with open(f, "rb") as fh:
            return _load(_Source(fh, name, exact=True), place, bool(mmap))
    if mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    return _load(_Source(f, name, exact=False), place, False)


def _load(src, place, use_mmap):
    hdr, arrays = _read_checkpoint(src, use_mmap)
    if hdr is None:
        src.f.seek(src.start)
        return {k: place(_make(a), "cpu") for k, a in _read_safetensors(src)[0].items()}
    return _Decoder(hdr["tensors"], arrays, place, src.error).dec(hdr["root"], 0)


def save_checkpoint(obj, path):
    """Save ``obj`` to the file ``path`` atomically (genesis.save's format)."""
    if not _is_path(path):
        raise TypeError(f"save_checkpoint() expects a file path (str or os.PathLike), got "
                        f"{type(path).__name__}; use genesis.save for file objects")
    save(obj, path)


def load_checkpoint(path, map_location=None, *, mmap=None):
    """Load a checkpoint written by save_checkpoint or save."""
    return load(path, map_location, mmap=mmap)


# ---------------------------------------------------------------- safetensors
_ST_DTYPES = {"BOOL": _dt.bool_, "U8": _dt.uint8, "I8": _dt.int8, "I16": _dt.int16,
              "F16": _dt.float16, "BF16": _dt.bfloat16, "I32": _dt.int32, "F32": _dt.float32,
              "F64": _dt.float64, "I64": _dt.int64}
_ST_CODES = {d: c for c, d in _ST_DTYPES.items()}
# the safetensors writer orders tensors by this dtype rank (descending), then by name
_ST_RANK = {c: i for i, c in enumerate(("BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32",
                                        "F64", "I64"))}
_ST_MAX_HEADER = 100_000_000


def save_safetensors(tensors, path, metadata=None):
    """Write a dict {name: Tensor} in the safetensors format (atomically for a path, or to
    a binary file object). ``metadata`` is an optional dict of strings."""
    if not isinstance(tensors, dict):
        raise TypeError(f"tensors must be a dict of name -> Tensor, got {type(tensors).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("metadata must be a dict of str -> str")
    items = []
    for k, t in tensors.items():
        if not isinstance(k, str) or not isinstance(t, Tensor):
            raise TypeError(f"tensors must map str to Tensor, got {type(k).__name__} -> "
                            f"{type(t).__name__}")
        if k == "__metadata__":
            raise ValueError("'__metadata__' is reserved in safetensors; pass metadata=")
        items.append((k, _ST_CODES[t.dtype], _contig(t._be.to_host(t._data))))
    items.sort(key=lambda it: (-_ST_RANK[it[1]], it[0]))
    header = {} if metadata is None else {"__metadata__": metadata}
    pos = 0
    for k, code, a in items:
        header[k] = {"dtype": code, "shape": list(a.shape), "data_offsets": [pos, pos + a.nbytes]}
        pos += a.nbytes
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)              # the data starts 8-byte aligned

    def write(f):
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, a in items:
            f.write(memoryview(_le(a).reshape(-1).view(np.uint8)))
    if _is_path(path):
        _atomic_write(path, write)
    else:
        write(path)


def load_safetensors(path, device="cpu"):
    """Read a safetensors file (a path or a binary file object) into a dict
    {name: Tensor}, in file order, validating it first."""
    dev = _check_device(device)
    name = _name_of(path)
    if _is_path(path):
        with open(path, "rb") as fh:
            tensors, _ = _read_safetensors(_Source(fh, name, exact=True))
    else:
        tensors, _ = _read_safetensors(_Source(path, name, exact=False))
    return {k: _move(_make(a), str(dev)) for k, a in tensors.items()}


def _read_safetensors(src):
    """Validate and read a safetensors file; returns ({name: array}, metadata)."""
    err = src.error
    n = src.read(8) if src.avail >= 8 else None
    if n is None:
        raise err(f"truncated at byte {src.avail} of at least 8 (too small for safetensors)")
    hlen = struct.unpack("<Q", n)[0]
    if hlen > _ST_MAX_HEADER:
        raise err(f"safetensors header of {hlen} bytes is larger than the {_ST_MAX_HEADER} "
                  "allowed")
    if 8 + hlen > src.avail:
        raise err(f"truncated at byte {src.avail} of at least {8 + hlen} (the safetensors "
                  "header runs past the end)")
    hdr = _json(src.read(hlen), err)
    if type(hdr) is not dict:
        raise err("the safetensors header is not a JSON object")
    meta = hdr.pop("__metadata__", None)
    if meta is not None and not (type(meta) is dict and
                                 all(type(v) is str for v in meta.values())):
        raise err("__metadata__ must be an object of strings")
    ents = []
    for k, e in hdr.items():
        if type(e) is not dict or set(e) != {"dtype", "shape", "data_offsets"}:
            raise err(f"tensor {k!r}: expected fields dtype, shape, data_offsets")
        d = _ST_DTYPES.get(e["dtype"]) if type(e["dtype"]) is str else None
        if d is None:
            raise err(f"tensor {k!r}: unknown or unsupported dtype {str(e['dtype'])[:20]!r}")
        numel = _shape(e["shape"], err, f"tensor {k!r}")
        offs = e["data_offsets"]
        if type(offs) is not list or len(offs) != 2 or not all(_int(o) and o >= 0 for o in offs):
            raise err(f"tensor {k!r}: data_offsets must be [begin, end]")
        ents.append((offs[0], offs[1], k, d, e["shape"], numel))
    ents.sort(key=lambda x: (x[0], x[1]))
    pos = 0
    for b, e, k, d, shape, numel in ents:
        if b != pos or e < b:
            raise err(f"tensor {k!r}: invalid data_offsets [{b}, {e}] (expected to start at "
                      f"{pos}; tensors must tile the data without gaps or overlaps)")
        if e - b != numel * d.itemsize:
            raise err(f"tensor {k!r}: shape {shape} and dtype {_ST_CODES[d]} need "
                      f"{numel * d.itemsize} bytes, data_offsets give {e - b}")
        pos = e
    src.need(8 + hlen + pos)
    out = {}
    for b, e, k, d, shape, numel in ents:
        u8, _ = src.read_array(e - b, 0)
        if d is _dt.bool_ and u8.size and u8.max() > 1:
            raise err(f"tensor {k!r}: bool data holds bytes other than 0 and 1")
        out[k] = _le(u8.view(d.np)).reshape(shape)
    return out, meta
