"""default_collate and default_convert with PyTorch's rules.

``collate(batch, collate_fn_map=...)`` dispatches on the type of the first sample: an
exact type match in the map first, then the first ``isinstance`` match, then the
containers (mappings per key, namedtuples kept, other sequences transposed)."""
import collections.abc
import copy
import re

import numpy as np

from ... import dtypes as _dt
from ...creation import as_tensor, tensor
from ...ops.shape import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]

# NumPy dtype strings of bytes, str and object arrays: not convertible to tensors
_np_str_obj = re.compile(r"[SaUO]")

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
        "lists; found {}")


def _collate_tensor(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def _collate_ndarray(batch, *, collate_fn_map=None):
    if _np_str_obj.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERR.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_np_scalar(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def _collate_float(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=_dt.float64)


def _collate_int(batch, *, collate_fn_map=None):
    return tensor(batch)        # int64, or bool for Python bools


def _collate_str(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: _collate_tensor,
    np.ndarray: _collate_ndarray,
    (np.bool_, np.number, np.object_): _collate_np_scalar,
    float: _collate_float,
    int: _collate_int,
    str: _collate_str,
    bytes: _collate_str,
}


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples of one structure) with the per-type
    functions in ``collate_fn_map`` (each called as ``fn(batch, collate_fn_map=...)``)."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        out = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
               for key in elem}
        return _rebuild_mapping(elem, out)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):          # namedtuple
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map)
                           for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        cols = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return cols
        return _rebuild_sequence(elem, cols)
    raise TypeError(_ERR.format(elem_type))


def _rebuild_mapping(like, values):
    """A mapping of ``like``'s type holding ``values`` (a plain dict if that type cannot
    be built so)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)         # keeps the type and its extra state
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Merge a list of samples into a batch: tensors are stacked on a new first
    dimension; NumPy arrays and scalars become tensors (then stacked); Python floats a
    float64 tensor, ints an int64 tensor, bools a bool tensor; strings and bytes stay a
    list; mappings are collated per key, namedtuples per field, and other sequences are
    transposed (tuples come back as lists)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Convert NumPy arrays and scalars inside ``data`` to tensors, keeping the
    structure (the collate_fn when automatic batching is off)."""
    if isinstance(data, Tensor):
        return data
    t = type(data)
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "bytes_", "string_"):
        if t is np.ndarray and _np_str_obj.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data
