"""Matmul kernels: the classic tiled matmul, batched over a grid axis.

One program computes a (BLOCK_M, BLOCK_N) tile of C = A @ B for one batch entry
(program_id(1)), looping over K in BLOCK_K steps with masks; tiles are visited in groups of
GROUP_M rows so that neighbouring programs share A and B tiles in L2. Every operand is
addressed by (batch, row, column) element strides, so transposed, sliced and broadcast
(stride 0) operands need no copy.

Floats accumulate with ``tl.dot`` (float16/bfloat16/float32 in float32, float64 in
float64) and round once on store. Integers (and bool) have no tensor-core path for int64:
they accumulate in int64 by a broadcast multiply-add over the K block (DOT=False).
Autotuning (on GPUs only; see linalg.py) picks BLOCK_M/N/K, GROUP_M, num_warps and
num_stages among CONFIGS.
"""
import triton
import triton.language as tl

from .common import store_cast


@triton.jit
def matmul_kernel(a, b, c, M, N, K,
                  s_ab, s_am, s_ak, s_bb, s_bk, s_bn, s_cb, s_cm, s_cn,
                  ACC: tl.constexpr, DOT: tl.constexpr, UPCAST: tl.constexpr,
                  PREC: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                  BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    batch = tl.program_id(1).to(tl.int64)
    # grouped ordering: GROUP_M tile rows are swept column by column
    grid_m = tl.cdiv(M, BLOCK_M)
    grid_n = tl.cdiv(N, BLOCK_N)
    width = GROUP_M * grid_n
    first_m = (pid // width) * GROUP_M
    size_m = min(grid_m - first_m, GROUP_M)
    pid_m = first_m + (pid % width) % size_m
    pid_n = (pid % width) // size_m

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    mask_m = rm < M
    mask_n = rn < N
    # 64-bit offsets: batched operands can span more than 2**31 elements
    a_ptrs = a + batch * s_ab + rm.to(tl.int64)[:, None] * s_am + rk[None, :] * s_ak
    b_ptrs = b + batch * s_bb + rk[:, None] * s_bk + rn.to(tl.int64)[None, :] * s_bn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    for k0 in range(0, K, BLOCK_K):
        mask_k = rk < K - k0
        x = tl.load(a_ptrs, mask=mask_m[:, None] & mask_k[None, :], other=0)
        y = tl.load(b_ptrs, mask=mask_k[:, None] & mask_n[None, :], other=0)
        if DOT:
            if UPCAST:      # the interpreter's bfloat16 arithmetic is wrong: go via float32
                x = x.to(tl.float32)
                y = y.to(tl.float32)
            acc = tl.dot(x, y, acc, input_precision=PREC, out_dtype=ACC)
        else:
            acc += tl.sum(x.to(ACC)[:, :, None] * y.to(ACC)[None, :, :], axis=1)
        a_ptrs += BLOCK_K * s_ak
        b_ptrs += BLOCK_K * s_bk
    c_ptrs = c + batch * s_cb + rm.to(tl.int64)[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c_ptrs, store_cast(acc, c.dtype.element_ty),
             mask=mask_m[:, None] & mask_n[None, :])


def _config(bm, bn, bk, warps, stages, group=8):
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": group},
                         num_warps=warps, num_stages=stages)


# Hopper tiles for float16/bfloat16/float32 (tensor cores, or FMA for IEEE float32)
CONFIGS = [
    _config(128, 128, 64, 8, 3),
    _config(128, 256, 64, 8, 3),
    _config(64, 256, 32, 4, 4),
    _config(128, 128, 32, 4, 4),
    _config(128, 64, 32, 4, 4),
    _config(64, 128, 32, 4, 4),
    _config(64, 64, 32, 4, 4),
]
# float64 tiles are 4x the bytes of half tiles: smaller ones fit shared memory
CONFIGS_F64 = [
    _config(64, 64, 32, 4, 3),
    _config(128, 64, 16, 8, 3),
    _config(64, 128, 16, 8, 3),
    _config(32, 32, 32, 4, 2),
]
# integers: the broadcast product holds BLOCK_M * BLOCK_K * BLOCK_N int64s in registers
CONFIG_INT = _config(32, 32, 8, 4, 2)
# the interpreter: one fixed config with large blocks (each program costs ~1 ms there)
CONFIG_INTERPRET = _config(64, 64, 32, 4, 1)

_PTR = {"float16": "*fp16", "bfloat16": "*bf16", "float32": "*fp32", "float64": "*fp64",
        "int64": "*i64", "int32": "*i32", "int8": "*i8", "uint8": "*u8", "bool": "*i1"}


def _case(dtype, cfg, acc, dot, prec="ieee"):
    """(kernel, signature, constexprs, options): options carry the config's warps and
    stages, so each compiles as autotuning launches it."""
    sig = {"a": _PTR[dtype], "b": _PTR[dtype], "c": _PTR[dtype]}
    sig.update({k: "i32" for k in ("M", "N", "K")})
    sig.update({f"s_{o}{d}": "i64" for o, dims in (("a", "bmk"), ("b", "bkn"), ("c", "bmn"))
                for d in dims})
    sig.update({k: "constexpr" for k in ("ACC", "DOT", "UPCAST", "PREC")})
    sig.update({k: "constexpr" for k in cfg.kwargs})
    constexprs = dict(ACC=acc, DOT=dot, UPCAST=False, PREC=prec, **cfg.kwargs)
    return matmul_kernel, sig, constexprs, {"num_warps": cfg.num_warps,
                                            "num_stages": cfg.num_stages}


# every config once (float16), then every dtype's path
AOT_CASES = (
    [_case("float16", cfg, tl.float32, True) for cfg in CONFIGS]
    + [_case("bfloat16", CONFIGS[0], tl.float32, True),
       _case("float32", CONFIGS[3], tl.float32, True),
       _case("float32", CONFIGS[0], tl.float32, True, prec="tf32")]
    + [_case("float64", cfg, tl.float64, True) for cfg in CONFIGS_F64]
    + [_case(dt, CONFIG_INT, tl.int64, False) for dt in ("int64", "int8", "bool")]
)
