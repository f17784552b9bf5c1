"""The CUDA caching allocator (genesis/backend/cuda/memory.py) over host memory: pure
Python, no GPU, no torch."""
import collections
import random
import threading

import numpy as np
import pytest

from genesis.backend.cuda.memory import (CachingAllocator, HostMemory, OutOfMemoryError,
                                         RawOutOfMemory, format_size)

KiB, MiB = 1 << 10, 1 << 20


def make(capacity=None, device_index=0):
    raw = HostMemory(capacity)
    return CachingAllocator(raw, device_index), raw


def segment_of(alloc, block):
    (seg,) = [s for s in alloc.memory_snapshot() if s["address"] == block.segment.ptr]
    return seg


@pytest.mark.parametrize("size,text", [(0, "0 bytes"), (512, "512 bytes"),
                                       (1024, "1024 bytes"), (1536, "1.50 KiB"),
                                       (MiB, "1024.00 KiB"), (20 * MiB, "20.00 MiB"),
                                       (3 << 30, "3.00 GiB")])
def test_format_size(size, text):
    assert format_size(size) == text


@pytest.mark.parametrize("nbytes,size,seg_size,small", [
    (1, 512, 2 * MiB, True),
    (512, 512, 2 * MiB, True),
    (513, 1024, 2 * MiB, True),
    (MiB, MiB, 2 * MiB, True),
    (MiB + 1, MiB + 512, 20 * MiB, False),
    (10 * MiB - 512, 10 * MiB - 512, 20 * MiB, False),
    (10 * MiB, 10 * MiB, 10 * MiB, False),
    (11 * MiB + 1, 12 * MiB, 12 * MiB, False),     # remainder 1 MiB - 512: not split
    (23 * MiB, 24 * MiB, 24 * MiB, False),         # remainder 1 MiB: not split (needs > 1 MiB)
])
def test_rounding_and_pool_choice(nbytes, size, seg_size, small):
    alloc, raw = make()
    b = alloc.malloc(nbytes)
    assert (b.size, b.requested, b.allocated) == (size, nbytes, True)
    assert b.ptr % 512 == 0 and b.ptr == b.segment.ptr
    assert (b.segment.size, b.segment.small) == (seg_size, small)
    assert alloc.memory_reserved() == raw.used == seg_size
    assert alloc.memory_allocated() == size
    pool = "small_pool" if small else "large_pool"
    other = "large_pool" if small else "small_pool"
    st = alloc.memory_stats()
    assert st[f"allocated_bytes.{pool}.current"] == size
    assert st[f"reserved_bytes.{pool}.current"] == seg_size
    assert st[f"allocated_bytes.{other}.current"] == st[f"reserved_bytes.{other}.current"] == 0


def test_zero_and_bad_sizes():
    alloc, raw = make()
    z = alloc.malloc(0)
    assert (z.ptr, z.size, z.segment) == (0, 0, None)
    alloc.free(z)
    alloc.free(z)                   # needs no memory, so freeing is always a no-op
    assert alloc.memory_reserved() == alloc.memory_allocated() == raw.used == 0
    with pytest.raises(ValueError, match="negative"):
        alloc.malloc(-1)


def test_double_free():
    alloc, _ = make()
    b = alloc.malloc(100)
    alloc.free(b)
    with pytest.raises(RuntimeError, match="not allocated"):
        alloc.free(b)


def test_split_merge_and_reuse():
    alloc, _ = make()
    a, b, c = (alloc.malloc(1000) for _ in range(3))
    assert a.segment is b.segment is c.segment
    assert (b.ptr, c.ptr) == (a.ptr + 1024, a.ptr + 2048)
    alloc.free(b)
    st = alloc.memory_stats()
    # b's 1024 and the segment's tail are free pieces of a split segment
    assert st["inactive_split_bytes.all.current"] == 2 * MiB - 2048
    assert st["inactive_split.all.current"] == 2
    alloc.free(a)                   # merges with b
    blocks = segment_of(alloc, c)["blocks"]
    assert [(x["address"], x["size"], x["state"]) for x in blocks] == [
        (a.ptr, 2048, "inactive"), (c.ptr, 1024, "active_allocated"),
        (c.ptr + 1024, 2 * MiB - 3072, "inactive")]
    d = alloc.malloc(2048)          # the merged block fits exactly
    assert d.ptr == a.ptr and d.size == 2048
    alloc.free(d)
    alloc.free(c)                   # everything merges back into one block
    (seg,) = alloc.memory_snapshot()
    assert [(x["address"], x["size"]) for x in seg["blocks"]] == [(a.ptr, 2 * MiB)]
    assert alloc.memory_stats()["inactive_split_bytes.all.current"] == 0
    assert alloc.memory_reserved() == 2 * MiB and alloc.memory_allocated() == 0


def test_merge_with_next_neighbour():
    alloc, _ = make()
    a, b, c = (alloc.malloc(512) for _ in range(3))
    alloc.free(b)
    alloc.free(a)                   # a absorbs b: one 1024 free block at a
    alloc.free(c)                   # c merges into a and with the tail
    (seg,) = alloc.memory_snapshot()
    assert len(seg["blocks"]) == 1 and seg["blocks"][0]["size"] == 2 * MiB


@pytest.mark.parametrize("unit", [512, 2 * MiB])   # small pool / large pool
def test_best_fit(unit):
    alloc, _ = make()
    holes = {}
    for n in (4, 2, 8):             # free holes of 4, 2, 8 units kept apart by live blocks
        holes[n] = alloc.malloc(n * unit)
        alloc.malloc(unit)
    for blk in holes.values():
        alloc.free(blk)
    assert alloc.malloc(2 * unit - 100).ptr == holes[2].ptr
    assert alloc.malloc(3 * unit).ptr == holes[4].ptr
    assert alloc.malloc(5 * unit).ptr == holes[8].ptr


def test_streams_are_separate():
    alloc, _ = make()
    b = alloc.malloc(1000, stream=0)
    alloc.free(b)
    c = alloc.malloc(1000, stream=7)
    assert c.segment is not b.segment and c.stream == 7 and c.segment.stream == 7
    assert alloc.memory_stats()["segment.all.current"] == 2
    d = alloc.malloc(1000, stream=0)
    assert d.ptr == b.ptr and d.stream == 0
    alloc.free(c)
    e = alloc.malloc(1000, stream=7)
    assert e.ptr == c.ptr


def test_stats_sequence():
    alloc, raw = make()
    s = alloc.malloc(1000)                  # 1024 of a 2 MiB small segment
    m = alloc.malloc(3 * MiB)               # 3 MiB of a 20 MiB large segment
    alloc.free(s)
    big = alloc.malloc(18 * MiB)            # > the 17 MiB free tail: its own segment
    alloc.free(m)
    st = alloc.memory_stats()
    assert isinstance(st, collections.OrderedDict) and list(st) == sorted(st)
    expect = {
        "allocated_bytes.all.current": 18 * MiB,
        "allocated_bytes.all.peak": 21 * MiB,
        "allocated_bytes.all.allocated": 21 * MiB + 1024,
        "allocated_bytes.all.freed": 3 * MiB + 1024,
        "allocated_bytes.small_pool.current": 0,
        "allocated_bytes.small_pool.peak": 1024,
        "allocated_bytes.small_pool.freed": 1024,
        "allocated_bytes.large_pool.current": 18 * MiB,
        "allocated_bytes.large_pool.peak": 21 * MiB,
        "active_bytes.all.current": 18 * MiB,
        "active_bytes.all.peak": 21 * MiB,
        "requested_bytes.all.current": 18 * MiB,
        "requested_bytes.all.allocated": 21 * MiB + 1000,
        "reserved_bytes.all.current": 40 * MiB,
        "reserved_bytes.all.peak": 40 * MiB,
        "reserved_bytes.all.allocated": 40 * MiB,
        "reserved_bytes.all.freed": 0,
        "reserved_bytes.small_pool.current": 2 * MiB,
        "reserved_bytes.large_pool.current": 38 * MiB,
        "allocation.all.current": 1,
        "allocation.all.peak": 2,
        "allocation.all.allocated": 3,
        "allocation.all.freed": 2,
        "allocation.small_pool.peak": 1,
        "allocation.large_pool.peak": 2,
        "segment.all.current": 3,
        "segment.all.peak": 3,
        "segment.all.allocated": 3,
        "segment.all.freed": 0,
        "segment.large_pool.current": 2,
        "inactive_split_bytes.all.current": 0,   # both free segments are whole
        "num_alloc_retries": 0,
        "num_ooms": 0,
    }
    assert {k: st[k] for k in expect} == expect
    assert alloc.memory_allocated() == 18 * MiB and alloc.max_memory_allocated() == 21 * MiB
    assert alloc.memory_reserved() == alloc.max_memory_reserved() == raw.used == 40 * MiB

    assert alloc.empty_cache() == 22 * MiB  # the small and the 20 MiB segment
    st = alloc.memory_stats()
    assert (st["reserved_bytes.all.current"], st["reserved_bytes.all.peak"],
            st["reserved_bytes.all.freed"]) == (18 * MiB, 40 * MiB, 22 * MiB)
    assert (st["segment.all.current"], st["segment.all.freed"]) == (1, 2)
    assert raw.used == 18 * MiB
    alloc.free(big)
    assert alloc.memory_allocated() == 0


def test_empty_cache_keeps_partly_used_segments():
    alloc, raw = make()
    keep = alloc.malloc(1000)
    loose = alloc.malloc(2000)
    alloc.free(loose)                       # segment still holds `keep`
    gone = alloc.malloc(5 * MiB)
    alloc.free(gone)
    assert alloc.empty_cache() == 20 * MiB
    assert alloc.memory_reserved() == raw.used == 2 * MiB
    assert alloc.memory_snapshot()[0]["address"] == keep.segment.ptr
    assert alloc.empty_cache() == 0
    alloc.free(keep)
    assert alloc.empty_cache() == 2 * MiB and raw.used == 0


def test_peak_and_accumulated_resets():
    alloc, _ = make()
    a = alloc.malloc(4 * MiB)
    b = alloc.malloc(4 * MiB)
    alloc.free(b)
    assert alloc.max_memory_allocated() == 8 * MiB
    alloc.reset_peak_memory_stats()
    assert alloc.max_memory_allocated() == alloc.memory_allocated() == 4 * MiB
    assert alloc.max_memory_reserved() == alloc.memory_reserved() == 20 * MiB
    st = alloc.memory_stats()
    assert st["allocation.all.peak"] == 1 and st["allocated_bytes.all.allocated"] == 8 * MiB
    alloc.reset_accumulated_memory_stats()
    st = alloc.memory_stats()
    assert st["allocated_bytes.all.allocated"] == st["allocated_bytes.all.freed"] == 0
    assert st["allocated_bytes.all.current"] == 4 * MiB
    alloc.free(a)
    assert alloc.memory_stats()["allocated_bytes.all.freed"] == 4 * MiB


def test_oom_retry_releases_cache():
    alloc, raw = make(capacity=20 * MiB)
    a = alloc.malloc(5 * MiB)               # the whole capacity as one 20 MiB segment
    alloc.free(a)
    b = alloc.malloc(1000, stream=3)        # needs a 2 MiB segment: retry after release
    assert b.segment.size == 2 * MiB
    st = alloc.memory_stats()
    assert (st["num_alloc_retries"], st["num_ooms"]) == (1, 0)
    assert alloc.memory_reserved() == raw.used == 2 * MiB
    assert st["segment.all.current"] == 1 and st["segment.all.freed"] == 1


def test_oom_uses_oversize_block_before_releasing():
    alloc, raw = make(capacity=41 * MiB)
    a = alloc.malloc(40 * MiB)
    alloc.free(a)
    b = alloc.malloc(12 * MiB)              # no room for a 12 MiB segment: take a's block
    assert b.ptr == a.ptr and b.size == 12 * MiB
    assert alloc.memory_stats()["num_alloc_retries"] == 0
    assert alloc.memory_reserved() == 40 * MiB


def test_oversize_rule():
    alloc, _ = make()
    a = alloc.malloc(40 * MiB)
    alloc.free(a)
    b = alloc.malloc(12 * MiB)              # 40 > 2 * 12: a fresh 12 MiB segment
    assert b.segment is not a.segment and alloc.memory_reserved() == 52 * MiB
    c = alloc.malloc(25 * MiB)              # 40 <= 2 * 25: reuse, splitting off 15 MiB
    assert c.ptr == a.ptr and c.size == 25 * MiB
    d = alloc.malloc(3 * MiB)               # < 10 MiB: the rule does not apply
    assert d.ptr == a.ptr + 25 * MiB
    e = alloc.malloc(11 * MiB)              # the 12 MiB free tail: 12 <= 2 * 11
    assert e.ptr == d.ptr + 3 * MiB and e.size == 12 * MiB    # 1 MiB rest is not split off


def test_oom_error_message():
    alloc, raw = make(capacity=4 * MiB, device_index=3)
    keep = alloc.malloc(1000)
    with pytest.raises(OutOfMemoryError) as info:
        alloc.malloc(5 * MiB)
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == (
        "CUDA out of memory. Tried to allocate 20.00 MiB. GPU 3 has a total capacity of "
        "4.00 MiB of which 2.00 MiB is free. Of the allocated memory 1024 bytes is "
        "allocated by Genesis, and 2.00 MiB is reserved by Genesis but unallocated.")
    st = alloc.memory_stats()
    assert (st["num_ooms"], st["num_alloc_retries"]) == (1, 1)
    # the failure left the allocator intact and usable
    assert alloc.memory_allocated() == 1024 and alloc.memory_reserved() == raw.used == 2 * MiB
    alloc.free(keep)
    assert alloc.malloc(MiB).ptr == keep.ptr


def test_host_memory():
    raw = HostMemory(capacity=MiB)
    p = raw.alloc(1000)
    q = raw.alloc(24)
    assert p % 512 == 0 and q % 512 == 0
    assert raw.mem_get_info() == (MiB - 1024, MiB)
    view = raw.buffer(p + 10, 20)
    assert view.dtype == np.uint8 and view.shape == (20,)
    view[:] = np.arange(20)
    np.testing.assert_array_equal(raw.buffer(p, 30)[10:], np.arange(20))
    raw.buffer(p, 1000)
    with pytest.raises(ValueError, match="not inside"):
        raw.buffer(p + 990, 11)
    with pytest.raises(ValueError, match="not inside"):
        raw.buffer(p - 1, 1)
    with pytest.raises(RawOutOfMemory):
        raw.alloc(MiB)
    raw.free(p)
    with pytest.raises(ValueError, match="did not allocate"):
        raw.free(p)
    with pytest.raises(ValueError, match="not inside"):
        raw.buffer(p, 1)
    raw.free(q)
    assert raw.used == 0
    free, total = HostMemory().mem_get_info()
    assert 0 <= free <= total


def test_thread_safety_smoke():
    alloc, raw = make()
    errors = []

    def work(seed):
        rng = random.Random(seed)
        live = []
        try:
            for _ in range(300):
                if live and rng.random() < 0.5:
                    alloc.free(live.pop(rng.randrange(len(live))))
                else:
                    live.append(alloc.malloc(rng.choice([100, 5000, 300 * KiB, 3 * MiB]),
                                             stream=seed % 2))
            for b in live:
                alloc.free(b)
        except Exception as e:          # surfaced below: pytest does not see thread errors
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    st = alloc.memory_stats()
    assert st["allocated_bytes.all.current"] == st["allocation.all.current"] == 0
    assert st["allocation.all.allocated"] == st["allocation.all.freed"] > 0
    alloc.empty_cache()
    assert alloc.memory_reserved() == raw.used == 0


def check_invariants(alloc, raw, live):
    snap = alloc.memory_snapshot()
    reserved = 0
    for seg in snap:
        reserved += seg["total_size"]
        addr, prev_free = seg["address"], False
        for blk in seg["blocks"]:              # blocks tile the segment in order
            assert blk["address"] == addr
            addr += blk["size"]
            free = blk["state"] == "inactive"
            assert not (free and prev_free), "adjacent free blocks were not merged"
            prev_free = free
        assert addr == seg["address"] + seg["total_size"]
    assert reserved == alloc.memory_reserved() == raw.used
    spans = sorted((b.ptr, b.ptr + b.size) for b in live if b.size)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start, "live blocks overlap"
    for b in live:
        if b.size:
            seg = b.segment
            assert seg.ptr <= b.ptr and b.ptr + b.size <= seg.ptr + seg.size
            assert b.size >= b.requested and b.size % 512 == 0 and b.allocated
    assert alloc.memory_allocated() == sum(b.size for b in live)
    assert alloc.memory_stats()["allocation.all.current"] == sum(1 for b in live if b.size)


@pytest.mark.parametrize("seed", range(4))
def test_random_against_model(seed):
    rng = random.Random(seed)
    alloc, raw = make()
    live = {}                                   # block -> byte it was filled with
    sizes = [0, 1, 511, 513, 4000, 100 * KiB, MiB, MiB + 1, 3 * MiB, 9 * MiB, 10 * MiB,
             13 * MiB + 7, 30 * MiB]
    for step in range(400):
        r = rng.random()
        if live and r < 0.45:
            b = rng.choice(list(live))
            tag = live.pop(b)
            if b.requested:                     # nobody else wrote into it
                assert (raw.buffer(b.ptr, b.requested) == tag).all()
            alloc.free(b)
        elif r < 0.47:
            alloc.empty_cache()
        else:
            n = rng.choice(sizes) if rng.random() < 0.5 else rng.randrange(1, 4 * MiB)
            b = alloc.malloc(n, stream=rng.randrange(2))
            tag = step % 251
            if n:
                raw.buffer(b.ptr, n)[:] = tag
            live[b] = tag
        if step % 10 == 0:
            check_invariants(alloc, raw, live)
    check_invariants(alloc, raw, live)
    for b in list(live):
        alloc.free(b)
    check_invariants(alloc, raw, [])
    alloc.empty_cache()
    assert alloc.memory_reserved() == raw.used == 0


def test_memory_summary():
    alloc, _ = make()
    b = alloc.malloc(3 * MiB)
    text = alloc.memory_summary()
    for label in ("Allocated memory", "GPU reserved memory", "GPU reserved segments",
                  "from large pool", "Non-releasable memory", "CUDA OOMs: 0"):
        assert label in text
    assert "3072 KiB" in text and "20480 KiB" in text
    assert "from large pool" not in alloc.memory_summary(abbreviated=True)
    alloc.free(b)
