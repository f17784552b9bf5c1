"""Multi-tensor optimizer kernels: one launch updates every parameter of a dtype group.

The host lays the tensors out as chunks in an int64 table, one row per chunk: for each
array role (param, grad, state...) the chunk's element offset from that role's base
pointer (the lowest address of the role), then the chunk's length (and, for SGD, whether
its momentum buffer is new). A program reads its row and walks its chunk in BLOCKs, so
tensors of any sizes share one grid and no pointer table has to be dereferenced.

Each update repeats the CPU optimizer's operations one by one, in its order and with its
scalars rounded as NumPy rounds them, so results match bit for bit: division and square
root round to nearest (Triton's float32 defaults are approximate on GPUs) and the launch
turns multiply-add fusion off. ``LOW`` (float16/bfloat16) rounds to the storage dtype
after each operation the CPU rounds after.
"""
import triton
import triton.language as tl

from .common import from_bits, store_cast, div_rn as _div, sqrt_rn as _sqrt

ADAM_COLS = 6       # p, g, m, v, vmax offsets, length
SGD_COLS = 5        # p, g, buf offsets, length, buffer-is-new
UNSCALE_COLS = 2    # offset, length


@triton.jit
def _rnd(x, DT: tl.constexpr, LOW: tl.constexpr):
    """x rounded to the storage dtype and back (float16/bfloat16), else x as it is."""
    if LOW:
        return store_cast(x, DT).to(tl.float32)
    else:
        return x




@triton.jit
def adam_kernel(p, g, m, v, vmax, table, decay_b, wd_b, w_b, b2_b, omb2_b, nstep_b, bc2_b,
                eps_b, CDT: tl.constexpr, LOW: tl.constexpr, DECAY: tl.constexpr,
                L2: tl.constexpr, MAXIMIZE: tl.constexpr, LERP_LO: tl.constexpr,
                AMSGRAD: tl.constexpr, BLOCK: tl.constexpr):
    row = table + tl.program_id(0).to(tl.int64) * 6
    po, go, mo = tl.load(row), tl.load(row + 1), tl.load(row + 2)
    vo, xo, n = tl.load(row + 3), tl.load(row + 4), tl.load(row + 5)
    DT: tl.constexpr = p.dtype.element_ty
    decay = from_bits(decay_b).to(CDT)
    wd = from_bits(wd_b).to(CDT)
    w = from_bits(w_b).to(CDT)
    b2 = from_bits(b2_b).to(CDT)
    omb2 = from_bits(omb2_b).to(CDT)
    nstep = from_bits(nstep_b).to(CDT)
    bc2 = from_bits(bc2_b).to(CDT)
    eps = from_bits(eps_b).to(CDT)
    for s in range(0, n, BLOCK):
        offs = s + tl.arange(0, BLOCK).to(tl.int64)
        mask = offs < n
        x = tl.load(p + po + offs, mask=mask).to(CDT)
        gr = tl.load(g + go + offs, mask=mask).to(CDT)
        ma = tl.load(m + mo + offs, mask=mask).to(CDT)
        va = tl.load(v + vo + offs, mask=mask).to(CDT)
        if DECAY:                                   # AdamW: p *= 1 - lr * wd
            x = _rnd(x * decay, DT, LOW)
        if L2:                                      # g <- wd * p + g (maximize: - g)
            d = x * wd
            if MAXIMIZE:
                gr = _rnd(d - gr, DT, LOW)
            else:
                gr = _rnd(d + gr, DT, LOW)
        elif MAXIMIZE:
            gr = -gr
        d = gr - ma                                 # lerp from the nearer end
        if LERP_LO:
            ma = _rnd(ma + d * w, DT, LOW)
        else:
            ma = _rnd(gr + d * w, DT, LOW)
        va = _rnd(va * b2, DT, LOW)
        t = gr * omb2
        va = _rnd(va + t * gr, DT, LOW)
        tl.store(m + mo + offs, store_cast(ma, DT), mask=mask)
        tl.store(v + vo + offs, store_cast(va, DT), mask=mask)
        if AMSGRAD:                                 # NaN-propagating maximum
            vm = tl.load(vmax + xo + offs, mask=mask).to(CDT)
            vm = tl.where(vm != vm, vm, tl.where(vm > va, vm, va))
            tl.store(vmax + xo + offs, store_cast(vm, DT), mask=mask)
            va = vm
        den = _rnd(_sqrt(va), DT, LOW)
        den = _rnd(_div(den, bc2), DT, LOW)
        den = _rnd(den + eps, DT, LOW)
        u = _div(ma * nstep, den)
        x = _rnd(x + u, DT, LOW)
        tl.store(p + po + offs, store_cast(x, DT), mask=mask)


@triton.jit
def sgd_kernel(p, g, buf, table, wd_b, mom_b, alpha_b, nlr_b, CDT: tl.constexpr,
               LOW: tl.constexpr, WD: tl.constexpr, MAXIMIZE: tl.constexpr,
               MOMENTUM: tl.constexpr, DAMPEN: tl.constexpr, NESTEROV: tl.constexpr,
               BLOCK: tl.constexpr):
    row = table + tl.program_id(0).to(tl.int64) * 5
    po, go, bo = tl.load(row), tl.load(row + 1), tl.load(row + 2)
    n, first = tl.load(row + 3), tl.load(row + 4)
    DT: tl.constexpr = p.dtype.element_ty
    wd = from_bits(wd_b).to(CDT)
    mom = from_bits(mom_b).to(CDT)
    alpha = from_bits(alpha_b).to(CDT)
    nlr = from_bits(nlr_b).to(CDT)
    for s in range(0, n, BLOCK):
        offs = s + tl.arange(0, BLOCK).to(tl.int64)
        mask = offs < n
        x = tl.load(p + po + offs, mask=mask).to(CDT)
        gr = tl.load(g + go + offs, mask=mask).to(CDT)
        if WD:
            d = _rnd(x * wd, DT, LOW)
            if MAXIMIZE:
                gr = _rnd(d - gr, DT, LOW)
            else:
                gr = _rnd(d + gr, DT, LOW)
        elif MAXIMIZE:
            gr = -gr
        if MOMENTUM:
            b = tl.load(buf + bo + offs, mask=mask).to(CDT)
            b = _rnd(b * mom, DT, LOW)
            if DAMPEN:
                b = _rnd(b + _rnd(gr * alpha, DT, LOW), DT, LOW)
            else:
                b = _rnd(b + gr, DT, LOW)
            b = tl.where(first != 0, gr, b)         # a new buffer starts as the gradient
            tl.store(buf + bo + offs, store_cast(b, DT), mask=mask)
            if NESTEROV:
                gr = _rnd(gr + _rnd(b * mom, DT, LOW), DT, LOW)
            else:
                gr = b
        x = _rnd(x + _rnd(gr * nlr, DT, LOW), DT, LOW)
        tl.store(p + po + offs, store_cast(x, DT), mask=mask)


@triton.jit
def unscale_kernel(g, table, found, inv_b, CDT: tl.constexpr, SCALE: tl.constexpr,
                   BLOCK: tl.constexpr):
    row = table + tl.program_id(0).to(tl.int64) * 2
    go, n = tl.load(row), tl.load(row + 1)
    inv = from_bits(inv_b).to(CDT)
    for s in range(0, n, BLOCK):
        offs = s + tl.arange(0, BLOCK).to(tl.int64)
        mask = offs < n
        x = tl.load(g + go + offs, mask=mask).to(CDT)
        # inf - inf and NaN - NaN are NaN: x - x != 0 marks exactly the non-finite
        bad = (x - x) != 0
        tl.store(found + offs * 0, tl.full((BLOCK,), 1.0, tl.float32), mask=mask & bad)
        if SCALE:
            tl.store(g + go + offs, store_cast(x * inv, g.dtype.element_ty), mask=mask)


def _case(fn, sig, **constexprs):
    sig = dict(sig)
    sig.update({k: "constexpr" for k in constexprs})
    return fn, sig, constexprs, {"enable_fp_fusion": False}


_S = "i64"


def _adam_sig(t):
    return {"p": t, "g": t, "m": t, "v": t, "vmax": t, "table": "*i64", "decay_b": _S,
            "wd_b": _S, "w_b": _S, "b2_b": _S, "omb2_b": _S, "nstep_b": _S, "bc2_b": _S,
            "eps_b": _S}


def _sgd_sig(t):
    return {"p": t, "g": t, "buf": t, "table": "*i64", "wd_b": _S, "mom_b": _S,
            "alpha_b": _S, "nlr_b": _S}


AOT_CASES = [
    _case(adam_kernel, _adam_sig("*fp32"), CDT=tl.float32, LOW=False, DECAY=True, L2=False,
          MAXIMIZE=False, LERP_LO=True, AMSGRAD=True, BLOCK=1024),
    _case(adam_kernel, _adam_sig("*fp64"), CDT=tl.float64, LOW=False, DECAY=False, L2=True,
          MAXIMIZE=True, LERP_LO=True, AMSGRAD=False, BLOCK=1024),
    _case(adam_kernel, _adam_sig("*bf16"), CDT=tl.float32, LOW=True, DECAY=False, L2=True,
          MAXIMIZE=False, LERP_LO=False, AMSGRAD=True, BLOCK=1024),
    _case(adam_kernel, _adam_sig("*fp16"), CDT=tl.float32, LOW=True, DECAY=True, L2=False,
          MAXIMIZE=True, LERP_LO=True, AMSGRAD=False, BLOCK=1024),
    _case(sgd_kernel, _sgd_sig("*fp32"), CDT=tl.float32, LOW=False, WD=True, MAXIMIZE=False,
          MOMENTUM=True, DAMPEN=False, NESTEROV=True, BLOCK=1024),
    _case(sgd_kernel, _sgd_sig("*fp16"), CDT=tl.float32, LOW=True, WD=True, MAXIMIZE=True,
          MOMENTUM=True, DAMPEN=True, NESTEROV=False, BLOCK=1024),
    _case(sgd_kernel, _sgd_sig("*fp64"), CDT=tl.float64, LOW=False, WD=False, MAXIMIZE=False,
          MOMENTUM=False, DAMPEN=False, NESTEROV=False, BLOCK=1024),
    _case(unscale_kernel, {"g": "*fp32", "table": "*i64", "found": "*fp32", "inv_b": _S},
          CDT=tl.float32, SCALE=True, BLOCK=1024),
    _case(unscale_kernel, {"g": "*bf16", "table": "*i64", "found": "*fp32", "inv_b": _S},
          CDT=tl.float32, SCALE=False, BLOCK=1024),
]
