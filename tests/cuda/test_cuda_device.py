"""genesis.cuda's device, memory, stream and event API on the available device."""
import os
import subprocess
import sys

import numpy as np
import pytest

import genesis
from conftest import INTERPRET


def test_memory_accounting_follows_tensors():
    genesis.cuda.empty_cache()
    base = genesis.cuda.memory_allocated()
    genesis.cuda.reset_peak_memory_stats()
    t = genesis.empty(1000, 1000, device="cuda")   # 4,000,000 bytes, counted in 512s as torch
    assert genesis.cuda.memory_allocated() - base == 4_000_256
    assert genesis.cuda.max_memory_allocated() >= base + 4_000_256
    assert genesis.cuda.memory_reserved() >= genesis.cuda.memory_allocated()
    v = t[10:20]                                           # a view holds the storage
    del t
    assert genesis.cuda.memory_allocated() - base == 4_000_256
    del v
    assert genesis.cuda.memory_allocated() == base
    assert genesis.cuda.memory_reserved() > 0              # cached, not released
    genesis.cuda.empty_cache()
    stats = genesis.cuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == base
    assert stats["allocated_bytes.all.peak"] >= base + 4_000_256
    assert "allocated" in genesis.cuda.memory_summary().lower()
    free, total = genesis.cuda.mem_get_info()
    assert 0 <= free <= total


def test_memory_functions_take_device_arguments():
    for d in (None, 0, "cuda", "cuda:0", genesis.device("cuda", 0)):
        assert genesis.cuda.memory_allocated(d) == genesis.cuda.memory_allocated()
    with pytest.raises(ValueError, match="Expected a cuda device"):
        genesis.cuda.memory_allocated("cpu")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        genesis.cuda.memory_allocated(genesis.cuda.device_count())


def test_out_of_memory_error_is_a_runtime_error():
    assert issubclass(genesis.cuda.OutOfMemoryError, RuntimeError)


def test_streams_and_events():
    s = genesis.cuda.Stream()
    assert genesis.cuda.current_stream() == genesis.cuda.default_stream()
    with genesis.cuda.stream(s):
        assert genesis.cuda.current_stream() == s
        x = genesis.ones(100, device="cuda") * 2
    assert genesis.cuda.current_stream() == genesis.cuda.default_stream()
    s.synchronize()
    assert s.query()
    np.testing.assert_array_equal(x.cpu().numpy(), np.full(100, 2.0))
    start, end = (genesis.cuda.Event(enable_timing=True) for _ in range(2))
    start.record()
    y = x + 1
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        genesis.cuda.Event().elapsed_time(genesis.cuda.Event())
    genesis.cuda.synchronize()
    np.testing.assert_array_equal(y.cpu().numpy(), np.full(100, 3.0))


def test_device_context_and_set_device():
    with genesis.cuda.device(0):
        assert genesis.cuda.current_device() == 0
    genesis.cuda.set_device(0)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        genesis.cuda.set_device(genesis.cuda.device_count())


@pytest.mark.skipif(not INTERPRET, reason="the memory cap is the interpreter device's")
def test_out_of_memory_in_a_capped_device():
    # a fresh process whose interpreter device has 32 MiB: a 24 MB tensor fits only once
    # the cached 12 MiB segment of a freed tensor is released (a retry); 40 MB never fits
    # and is refused with PyTorch's error type and message
    code = ("import genesis\n"
            "a = genesis.empty(3_000_000, device='cuda')\n"
            "del a\n"
            "b = genesis.empty(6_000_000, device='cuda')\n"
            "print(genesis.cuda.memory_stats()['num_alloc_retries'])\n"
            "try:\n"
            "    genesis.empty(10_000_000, device='cuda')\n"
            "except genesis.cuda.OutOfMemoryError as e:\n"
            "    print('OOM', e)\n")
    env = dict(os.environ, TRITON_INTERPRET="1", GENESIS_INTERPRET_MEMORY=str(32 << 20))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    retries, oom = r.stdout.strip().splitlines()
    assert int(retries) == 1
    assert oom.startswith("OOM CUDA out of memory. Tried to allocate 40.00 MiB. GPU 0 has a "
                          "total capacity of 32.00 MiB")
