"""Random numbers: Generator, manual_seed, seed, get/set_rng_state, rand/randn/randint/
randperm/normal/bernoulli/multinomial, the _like forms and the in-place fills
(uniform_, normal_, bernoulli_, random_, exponential_, ...).

A Generator wraps NumPy's PCG64; the backends' random primitives draw from its ``_np``.
Sequences differ from PyTorch's (another generator) but the same seed always gives the
same numbers. Samples carry no gradient: as in PyTorch, the inputs of normal, bernoulli
and the in-place fills get a zero gradient through them."""
import contextlib
import math
import secrets

import numpy as np

from . import dtypes as _dt
from .autograd.function import Function
from .creation import _sizes, _finish, _be
from .device import to_device
from .ops.common import check_inplace, commit_inplace, snapshot, write_out
from .tensor import Tensor, _make
from .backend import cpu as _cpu

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "rand", "randn", "randint",
           "randperm", "normal", "bernoulli", "multinomial", "rand_like", "randn_like",
           "randint_like"]

_DEFAULT_SEED = 67280421310721          # PyTorch's default seed
_MASK64 = (1 << 64) - 1
_f64 = np.dtype(np.float64)
_STATE_BYTES = 56                       # PCG64 state, increment, has_uint32, uinteger, seed


def _check_seed(seed):
    seed = int(seed)
    if not -(1 << 63) <= seed <= _MASK64:
        raise ValueError(f"Overflow when unpacking long long: seed {seed} is outside "
                         "[-2**63, 2**64)")
    return seed & _MASK64


def state_bytes(new_state, nbytes, expects):
    """The bytes of an RNG state tensor, checked: a uint8 tensor of nbytes elements."""
    if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8 or \
            new_state.numel() != nbytes:
        what = f"{new_state.dtype} tensor of {new_state.numel()} elements" if \
            isinstance(new_state, Tensor) else type(new_state).__name__
        raise RuntimeError(f"{expects} a uint8 tensor of {nbytes} bytes from get_state(), "
                           f"got a {what}")
    return new_state._be.to_host(new_state._data).tobytes()


class Generator:
    """A source of random numbers for one device: NumPy's PCG64 seeded as given."""

    def __init__(self, device="cpu"):
        self.device = to_device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed = _check_seed(seed)
        self._np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The full generator state as a uint8 tensor (restore it with set_state)."""
        if self.device.type == "cuda":      # Philox seed and offset: backend/cuda/random.py
            from .backend.cuda.random import get_state
            return get_state(self)
        st = self._np.bit_generator.state
        words = (st["state"]["state"], st["state"]["inc"])
        raw = b"".join(w.to_bytes(16, "little") for w in words)
        raw += b"".join(int(v).to_bytes(8, "little")
                        for v in (st["has_uint32"], st["uinteger"], self._seed))
        return _make(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, new_state):
        if self.device.type == "cuda":
            from .backend.cuda.random import set_state
            return set_state(self, new_state)
        raw = state_bytes(new_state, _STATE_BYTES, "set_state expects")
        state, inc = int.from_bytes(raw[:16], "little"), int.from_bytes(raw[16:32], "little")
        has32, uint, seed = (int.from_bytes(raw[32 + 8 * i:40 + 8 * i], "little")
                             for i in range(3))
        self._np.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": state, "inc": inc},
            "has_uint32": has32, "uinteger": uint}
        self._seed = seed
        return self

    def __repr__(self):
        return f"<genesis.Generator device={self.device} seed={self._seed}>"


default_generator = Generator("cpu")
_device_generators = {}          # "cuda:0" -> Generator, made on first use
_last_seed = [_DEFAULT_SEED]


def _gen(generator, be, where=None):
    """The generator to draw from for backend ``be``: the given one (checked against the
    device) or that device's default; ``where`` (a device or a tensor) names the device
    when it is not the CPU."""
    if be is _cpu:
        if generator is None:
            return default_generator
        dev_type = "cpu"
    else:
        dev = where.device if isinstance(where, Tensor) else to_device(where)
        if generator is None:
            key = f"{dev.type}:{dev.index or 0}"
            g = _device_generators.get(key)
            if g is None:
                g = _device_generators[key] = Generator(key).manual_seed(_last_seed[0])
            return g
        dev_type = dev.type
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a genesis.Generator, got "
                        f"{type(generator).__name__}")
    if generator.device.type != dev_type:
        raise RuntimeError(f"Expected a '{dev_type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator


def manual_seed(seed):
    """Seed every device's default generator; returns the CPU one."""
    seed = _check_seed(seed)
    _last_seed[0] = seed
    for g in _device_generators.values():
        g.manual_seed(seed)
    return default_generator.manual_seed(seed)


def seed():
    s = default_generator.seed()
    manual_seed(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True):
    """Restore the CPU generator's state on exit."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


# ---------------------------------------------------------------- sampling
def _float_dtype(fn, dtype):
    d = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if not d.is_floating_point:
        raise NotImplementedError(f"\"{fn}\" not implemented for '{d.scalar_name}'")
    return d


class _Sampled(Function):
    """A sample ``arr`` drawn with the help of tensor ``inputs``: they get zero gradients
    (PyTorch's rule for normal, bernoulli and random fills)."""

    @staticmethod
    def forward(ctx, arr, *inputs):
        return arr

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(g * 0 if need else None for need in ctx.needs_input_grad[1:])


def rand(*size_args, size=None, generator=None, out=None, dtype=None, layout=None,
         device=None, requires_grad=False, pin_memory=False):
    """Uniform samples in [0, 1)."""
    shape = _sizes("rand", size_args, size)
    d = _float_dtype("rand", dtype)
    be = _be(device)
    arr = be.uniform(_gen(generator, be, device), shape, 0.0, 1.0, d.np)
    return _finish(arr, requires_grad, out)


def randn(*size_args, size=None, generator=None, out=None, dtype=None, layout=None,
          device=None, requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    shape = _sizes("randn", size_args, size)
    d = _float_dtype("randn", dtype)
    be = _be(device)
    arr = be.normal(_gen(generator, be, device), shape, 0.0, 1.0, d.np)
    return _finish(arr, requires_grad, out)


def _check_range(low, high):
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")


def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False):
    """Integers uniform in [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``; int64 unless ``dtype`` says otherwise."""
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size'")
        size = args.pop()
    if high is None:
        if not args:
            raise TypeError("randint() missing required argument 'high'")
        high = args.pop()
    if low is None:
        low = args.pop() if args else 0
    if args:
        raise TypeError("randint() takes at most 3 positional arguments (low, high, size)")
    low, high = int(low), int(high)
    _check_range(low, high)
    shape = _sizes("randint", (size,), None)
    d = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    be = _be(device)
    arr = be.randint(_gen(generator, be, device), low, high, shape, d.np)
    return _finish(arr, requires_grad, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0 .. n-1."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    be = _be(device)
    return _finish(be.randperm(_gen(generator, be, device), n, d.np), requires_grad, out)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Normal samples: ``normal(mean, std, size)`` for numbers, or with tensor ``mean``
    and/or ``std`` broadcast together (the result takes the tensor's dtype)."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            "(float, float): a size is needed when mean and std are numbers")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = _sizes("normal", (size,), None)
        d = _float_dtype("normal_kernel_cpu", dtype)
        be = _be(device)
        arr = be.normal(_gen(generator, be, device), shape, float(mean), float(std), d.np)
        return _finish(arr, requires_grad, out)
    like = mean if mt else std
    be = like._be
    d = _float_dtype("normal_kernel_cpu", like.dtype)
    if st:
        if be.any(be.less(std._data, 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    from .ops.shape import broadcast_shapes
    shape = broadcast_shapes(tuple(mean.shape) if mt else (), tuple(std.shape) if st else ())
    z = be.normal(_gen(generator, be, like), tuple(shape), 0.0, 1.0, d.np)
    m = mean._data if mt else mean
    s = std._data if st else std
    arr = be.add(be.multiply(z, s), m)
    if arr.dtype != d.np:
        arr = be.astype(arr, d.np)
    r = _Sampled.apply(arr, *[t for t in (mean, std) if isinstance(t, Tensor)])
    if out is not None:
        return write_out(r, out)
    return r


def _uniform64(gen, be, shape):
    return be.uniform(gen, shape, 0.0, 1.0, _f64)


def _check_probs(be, p):
    if be.any(be.logical_not(be.logical_and(be.greater_equal(p, 0), be.less_equal(p, 1)))):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or ``p`` for every element), in input's
    dtype."""
    be = input._be
    if not input.is_floating_point():
        raise NotImplementedError(f"\"bernoulli\" not implemented for "
                                  f"'{input.dtype.scalar_name}'")
    probs = input._data if p is None else (p._data if isinstance(p, Tensor) else p)
    if isinstance(probs, (int, float)):
        if not 0 <= probs <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={probs}")
    else:
        _check_probs(be, probs)
    u = _uniform64(_gen(generator, be, input), be, tuple(input.shape))
    arr = be.astype(be.less(u, probs), input._data.dtype)
    r = _Sampled.apply(arr, input)
    if out is not None:
        return write_out(r, out)
    return r


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from the (unnormalised) weights of each row of ``input``."""
    be = input._be
    nd = input.ndim
    if nd not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.scalar_name}")
    n = input.shape[-1]
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    p = be.astype(input._data, _f64)
    if nd == 1:
        p = be.reshape(p, (1, n))
    rows = p.shape[0]
    if be.any(be.logical_not(be.greater_equal(p, 0))) or not be.all(be.isfinite(p)):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "< 0)")
    total = be.sum(p, axis=1, keepdims=True)
    if be.any(be.less_equal(total, 0)):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    gen = _gen(generator, be, input)
    if replacement:
        # inverse CDF: the first category whose cumulative weight exceeds u * total
        cdf = be.cumsum(p, axis=1)
        u = be.multiply(_uniform64(gen, be, (rows, num_samples)), total)
        last = (n - 1) - be.argmax(be.greater(be.getitem(p, (slice(None), slice(None, None, -1))),
                                              0), axis=1)
        idx = be.concatenate([be.reshape(be.searchsorted(be.getitem(cdf, r), be.getitem(u, r),
                                                         side="right"), (1, num_samples))
                              for r in range(rows)], 0)
        idx = be.minimum(idx, be.reshape(last, (rows, 1)))
    else:
        if be.any(be.less(be.sum(be.astype(be.greater(p, 0), np.int64), axis=1),
                          num_samples)):
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not "
                               "enough non-negative category to sample)")
        # exponential race: the categories with the smallest Exp(1) / weight are a sample
        # without replacement (successive draws proportional to the remaining weights)
        u = be.subtract(1.0, _uniform64(gen, be, (rows, n)))          # (0, 1]
        keys = be.where(be.greater(p, 0), be.divide(be.negative(be.log(u)), p), np.inf)
        _, order = be.sort(keys, 1)
        idx = be.getitem(order, (slice(None), slice(0, num_samples)))
    idx = be.astype(idx, np.int64)
    if nd == 1:
        idx = be.reshape(idx, (num_samples,))
    r = _make(idx)
    if out is not None:
        return write_out(r, out)
    return r


# ---------------------------------------------------------------- _like
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    return rand(tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    return randn(tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator,
                   dtype=dtype or input.dtype, device=device or input.device,
                   requires_grad=requires_grad)


# ---------------------------------------------------------------- in-place fills
def _fill(self, arr):
    """Overwrite ``self`` with the sample ``arr``; in a graph, self's earlier history gets
    a zero gradient (PyTorch raises for a leaf that requires grad)."""
    if check_inplace(self):
        return commit_inplace(self, _Sampled.apply(arr, snapshot(self)))
    self._be.copyto(self._data, arr, casting="unsafe")
    self._bump_version()
    return self


def _self_float(self, fn):
    if not self.is_floating_point():
        raise NotImplementedError(f"\"{fn}\" not implemented for "
                                  f"'{self.dtype.scalar_name}'")


def _from_to(a, b, kw):
    a = kw.pop("from", a)
    b = kw.pop("to", b)
    if kw:
        raise TypeError(f"unexpected keyword arguments {sorted(kw)}")
    return a, b


def uniform_(self, a=0.0, b=1.0, *, generator=None, **kw):
    """Fill with samples uniform in [a, b) (PyTorch's ``from``/``to``)."""
    a, b = _from_to(a, b, kw)
    _self_float(self, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} "
                           f"> to={b}")
    be = self._be
    return _fill(self, be.uniform(_gen(generator, be, self), tuple(self.shape), a, b,
                                  self._data.dtype))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _self_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    be = self._be
    return _fill(self, be.normal(_gen(generator, be, self), tuple(self.shape), mean, std,
                                 self._data.dtype))


def bernoulli_(self, p=0.5, *, generator=None):
    be = self._be
    if isinstance(p, Tensor):
        probs = p._data
        _check_probs(be, probs)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        probs = p
    u = _uniform64(_gen(generator, be, self), be, tuple(self.shape))
    return _fill(self, be.astype(be.less(u, probs), self._data.dtype))


def _top(dtype):
    """random_()'s exclusive upper bound: 2**digits + 1 for floats (every integer there is
    exact), max + 1 for integers (int64 stops one short of its max)."""
    if dtype == np.bool_:
        return 2
    if dtype.kind == "f" or dtype == _dt.bfloat16.np:
        digits = {2: 11 if dtype == np.float16 else 8, 4: 24, 8: 53}[dtype.itemsize]
        return (1 << digits) + 1
    return min(int(np.iinfo(dtype).max) + 1, (1 << 63) - 1)


def random_(self, *args, generator=None, **kw):
    """``random_()``: integers in [0, top]; ``random_(to)``: [0, to);
    ``random_(from, to)``: [from, to) (``to=None`` means up to the top)."""
    if len(args) > 2:
        raise TypeError("random_() takes at most 2 positional arguments (from, to)")
    if len(args) == 1 and "to" not in kw:
        low, high = _from_to(0, args[0], kw)
    else:
        low, high = _from_to(*(tuple(args) + (0, None)[len(args):]), kw)
    npd = self._data.dtype
    if high is None:
        high = _top(npd)
    low, high = int(low), int(high)
    _check_range(low, high)
    be = self._be
    arr = be.randint(_gen(generator, be, self), low, high, tuple(self.shape), np.int64)
    return _fill(self, be.astype(arr, npd))


def _via_uniform(self, fn, name, generator):
    """Fill with fn(u) for u uniform in [0, 1), computed in float64."""
    _self_float(self, name)
    be = self._be
    u = _uniform64(_gen(generator, be, self), be, tuple(self.shape))
    return _fill(self, be.astype(fn(be, u), self._data.dtype))


def exponential_(self, lambd=1.0, *, generator=None):
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    # -log(1 - u) / lambda; 1 - u lies in (0, 1], so the result is finite
    return _via_uniform(self, lambda be, u: be.divide(be.negative(be.log(be.subtract(1.0, u))),
                                                      lambd),
                        "exponential", generator)


def geometric_(self, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    lq = math.log1p(-p)
    return _via_uniform(self, lambda be, u: be.ceil(be.divide(be.log(be.subtract(1.0, u)), lq)),
                        "geometric", generator)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _self_float(self, "log_normal")
    be = self._be
    z = be.normal(_gen(generator, be, self), tuple(self.shape), mean, std, _f64)
    return _fill(self, be.astype(be.exp(z), self._data.dtype))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _via_uniform(
        self, lambda be, u: be.add(be.multiply(be.tan(be.multiply(be.subtract(u, 0.5), math.pi)),
                                               sigma), median),
        "cauchy", generator)


TENSOR_METHODS = {
    "uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_, "random_": random_,
    "exponential_": exponential_, "geometric_": geometric_, "log_normal_": log_normal_,
    "cauchy_": cauchy_,
    "bernoulli": lambda self, p=None, *, generator=None: bernoulli(self, p,
                                                                   generator=generator),
    "multinomial": multinomial,
}
