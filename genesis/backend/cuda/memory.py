"""The CUDA caching allocator: PyTorch's CUDACachingAllocator semantics in pure Python.

Asking the driver for memory (cuMemAlloc) is slow and synchronizes the device, so freed
tensor memory is kept in a cache and handed out again. The allocator works over a raw
memory provider passed in (the `RawMemory` protocol below), so the same code runs over the
CUDA driver on a GPU and over host memory (`HostMemory`) in Triton's interpreter and tests.

Policy (sizes in bytes; the constants below name them):
- a request rounds up to a multiple of 512; 0 bytes gives a 0-size block with no memory;
- requests <= 1 MiB use the small pool, carved from 2 MiB segments; requests < 10 MiB use
  the large pool, carved from 20 MiB segments; larger requests get a segment of their size
  rounded up to 2 MiB (also in the large pool);
- best fit: the smallest cached free block of the pool and stream that holds the request;
  blocks are reused only on the stream they were allocated on;
- a block larger than the request is split when the remainder is >= 512 bytes (small
  pool) or > 1 MiB (large pool); otherwise the whole block is handed out, and counts as
  allocated;
- oversize rule (the simple stand-in for torch's max_split_size): a request >= 10 MiB does
  not take a cached block more than twice its size, so one huge free block is not chopped
  into many medium ones while the device still has room. When the device has no room, the
  smallest such block is used after all, before anything is released;
- freed blocks merge with free neighbours of the same segment;
- when the provider raises `RawOutOfMemory`, every fully free cached segment (all pools,
  all streams) is released and the allocation retried once (`num_alloc_retries`); if it
  fails again, `OutOfMemoryError` is raised (`num_ooms`) with torch's message.

Differences from torch: no record_stream / event tracking (so "active" equals
"allocated"), no expandable segments, no allocator config (max_split_size,
garbage_collection_threshold, roundup_power2_divisions), no memory history.
"""
import collections
import os
import threading
from bisect import bisect_left, insort

import numpy as np

__all__ = ["RawMemory", "RawOutOfMemory", "OutOfMemoryError", "HostMemory", "Block",
           "Segment", "CachingAllocator", "format_size"]

MIN_BLOCK = 512                  # every block size is a multiple of this
SMALL_SIZE = 1 << 20             # requests up to 1 MiB go to the small pool
SMALL_BUFFER = 2 << 20           # small-pool segment size
LARGE_BUFFER = 20 << 20          # segment size for requests in (1 MiB, 10 MiB)
MIN_LARGE_ALLOC = 10 << 20       # from here a request gets a segment of its own size
ROUND_LARGE = 2 << 20            # ... rounded up to this
ALIGN = 512                      # HostMemory address alignment


class RawOutOfMemory(Exception):
    """Raised by a RawMemory provider when the device cannot give the bytes asked for."""


class OutOfMemoryError(RuntimeError):
    """The allocator could not get memory even after releasing its cache
    (exported as genesis.cuda.OutOfMemoryError, like torch.cuda.OutOfMemoryError)."""


class RawMemory:
    """The protocol of a raw memory provider (duck-typed; subclassing is optional).

    alloc(nbytes) -> int: the address of `nbytes` fresh bytes, aligned to at least 512;
        raises RawOutOfMemory when the device cannot give them.
    free(ptr): return memory from alloc (the whole allocation; ptr is alloc's address).
    mem_get_info() -> (free_bytes, total_bytes) of the device.
    """

    def alloc(self, nbytes):
        raise NotImplementedError

    def free(self, ptr):
        raise NotImplementedError

    def mem_get_info(self):
        raise NotImplementedError


class HostMemory(RawMemory):
    """Raw memory in host RAM from NumPy buffers: the provider of Triton's interpreter mode
    and of tests. `capacity` (bytes) caps the total handed out, to simulate a full device."""

    def __init__(self, capacity=None):
        self.capacity = capacity
        self.used = 0
        self._bufs = {}          # ptr -> (uint8 buffer, offset of ptr in it, nbytes)
        self._starts = []        # sorted ptrs, to find the allocation holding an address
        self._lock = threading.Lock()

    def alloc(self, nbytes):
        nbytes = int(nbytes)
        with self._lock:
            if self.capacity is not None and self.used + nbytes > self.capacity:
                raise RawOutOfMemory(f"host memory capacity {self.capacity} exceeded: "
                                     f"{self.used} used, {nbytes} asked")
            # over-allocate so that an aligned address with nbytes after it exists
            buf = np.empty(nbytes + ALIGN - 1, dtype=np.uint8)
            base = buf.ctypes.data
            off = -base % ALIGN
            ptr = base + off
            self._bufs[ptr] = (buf, off, nbytes)
            insort(self._starts, ptr)
            self.used += nbytes
            return ptr

    def free(self, ptr):
        with self._lock:
            entry = self._bufs.pop(ptr, None)
            if entry is None:
                raise ValueError(f"free of address {ptr:#x}, which HostMemory did not allocate")
            del self._starts[bisect_left(self._starts, ptr)]
            self.used -= entry[2]

    def mem_get_info(self):
        if self.capacity is not None:
            return self.capacity - self.used, self.capacity
        try:
            page = os.sysconf("SC_PAGE_SIZE")
            return os.sysconf("SC_AVPHYS_PAGES") * page, os.sysconf("SC_PHYS_PAGES") * page
        except (ValueError, OSError, AttributeError):
            return 0, 0

    def buffer(self, ptr, nbytes):
        """A uint8 NumPy view of `nbytes` at address `ptr`, which must lie inside one
        allocation (with the bytes after it)."""
        with self._lock:
            i = bisect_left(self._starts, ptr + 1) - 1
            if i >= 0:
                start = self._starts[i]
                buf, off, size = self._bufs[start]
                if ptr + nbytes <= start + size:
                    lo = off + ptr - start
                    return buf[lo:lo + nbytes]
        raise ValueError(f"address range [{ptr:#x}, +{nbytes}) is not inside HostMemory")


class Segment:
    """One allocation from the raw provider, cut into a linked list of blocks."""
    __slots__ = ("ptr", "size", "stream", "small", "head", "pool")

    def __init__(self, ptr, size, stream, small, pool):
        self.ptr = ptr
        self.size = size
        self.stream = stream
        self.small = small
        self.pool = pool         # the sorted free list of (small, stream)
        self.head = None         # first block; the same object for the segment's life


class Block:
    """A piece of a segment. `size` is the rounded size, `requested` the bytes asked for
    (0 while free); prev/next are the neighbours in the segment."""
    __slots__ = ("ptr", "size", "requested", "stream", "segment", "prev", "next",
                 "allocated")

    def __init__(self, ptr, size, requested, stream, segment):
        self.ptr = ptr
        self.size = size
        self.requested = requested
        self.stream = stream
        self.segment = segment
        self.prev = None
        self.next = None
        self.allocated = False

    def __repr__(self):
        state = "allocated" if self.allocated else "free"
        return f"Block(ptr={self.ptr:#x}, size={self.size}, stream={self.stream}, {state})"


class _Stat:
    __slots__ = ("current", "peak", "allocated", "freed")

    def __init__(self):
        self.current = self.peak = self.allocated = self.freed = 0

    def add(self, n):
        c = self.current + n
        self.current = c
        if n >= 0:
            self.allocated += n
            if c > self.peak:
                self.peak = c
        else:
            self.freed -= n


def format_size(nbytes):
    """Sizes as torch's allocator messages write them: '512 bytes', '2.00 MiB'."""
    if nbytes <= 1024:
        return f"{nbytes} bytes"
    if nbytes <= 1 << 20:
        return f"{nbytes / 1024:.2f} KiB"
    if nbytes <= 1 << 30:
        return f"{nbytes / (1 << 20):.2f} MiB"
    return f"{nbytes / (1 << 30):.2f} GiB"


def _remove(pool, block):
    del pool[bisect_left(pool, (block.size, block.ptr))]


def _allocation_size(size):
    if size <= SMALL_SIZE:
        return SMALL_BUFFER
    if size < MIN_LARGE_ALLOC:
        return LARGE_BUFFER
    return -(-size // ROUND_LARGE) * ROUND_LARGE


_POOLS = ("all", "small_pool", "large_pool")


class CachingAllocator:
    """Caching allocator for one device over a RawMemory provider (see the module doc)."""

    def __init__(self, raw, device_index=0):
        self.raw = raw
        self.device_index = device_index
        self._lock = threading.Lock()
        self._pools = {}         # (small, stream) -> sorted list of (size, ptr, Block)
        self._segments = {}      # segment ptr -> Segment
        # stats indexed [0] all, [1] small pool, [2] large pool
        self._allocated = [_Stat(), _Stat(), _Stat()]
        self._reserved = [_Stat(), _Stat(), _Stat()]
        self._allocation = [_Stat(), _Stat(), _Stat()]
        self._segment = [_Stat(), _Stat(), _Stat()]
        self._requested = _Stat()
        self.num_alloc_retries = 0
        self.num_ooms = 0
        self.num_device_alloc = 0
        self.num_device_free = 0

    # ---- allocation -------------------------------------------------------------------
    def malloc(self, nbytes, stream=0):
        """A Block of at least `nbytes` bytes usable on `stream`."""
        if nbytes <= 0:
            if nbytes == 0:
                b = Block(0, 0, 0, stream, None)
                b.allocated = True
                return b
            raise ValueError(f"malloc: negative size {nbytes}")
        size = (nbytes + MIN_BLOCK - 1) & -MIN_BLOCK
        small = size <= SMALL_SIZE
        with self._lock:
            key = (small, stream)
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = []
            block = None
            i = bisect_left(pool, (size,))
            if i < len(pool):
                entry = pool[i]
                if small or size < MIN_LARGE_ALLOC or entry[0] <= 2 * size:
                    del pool[i]
                    block = entry[2]
            if block is None:
                block = self._new_segment(size, small, stream, pool)
            remaining = block.size - size
            if remaining >= MIN_BLOCK if small else remaining > SMALL_SIZE:
                rest = Block(block.ptr + size, remaining, 0, stream, block.segment)
                rest.prev = block
                rest.next = nxt = block.next
                if nxt is not None:
                    nxt.prev = rest
                block.next = rest
                block.size = size
                insort(pool, (remaining, rest.ptr, rest))
            block.allocated = True
            block.requested = nbytes
            p = 1 if small else 2
            n = block.size
            a = self._allocated
            a[0].add(n)
            a[p].add(n)
            a = self._allocation
            a[0].add(1)
            a[p].add(1)
            self._requested.add(nbytes)
            return block

    def _new_segment(self, size, small, stream, pool):
        """A fresh free block covering a new segment (not in any pool), or a cached oversize
        block when the device is full; called under the lock."""
        alloc_size = _allocation_size(size)
        try:
            ptr = self.raw.alloc(alloc_size)
        except RawOutOfMemory:
            i = bisect_left(pool, (size,))
            if i < len(pool):        # an oversize block skipped by the rule above
                return pool.pop(i)[2]
            self._release_cached()
            self.num_alloc_retries += 1
            try:
                ptr = self.raw.alloc(alloc_size)
            except RawOutOfMemory:
                self.num_ooms += 1
                raise OutOfMemoryError(self._oom_message(alloc_size)) from None
        self.num_device_alloc += 1
        seg = Segment(ptr, alloc_size, stream, small, pool)
        seg.head = block = Block(ptr, alloc_size, 0, stream, seg)
        self._segments[ptr] = seg
        p = 1 if small else 2
        for stats, n in ((self._reserved, alloc_size), (self._segment, 1)):
            stats[0].add(n)
            stats[p].add(n)
        return block

    def _oom_message(self, alloc_size):
        try:
            free, total = self.raw.mem_get_info()
        except Exception:            # the message must not hide the OOM itself
            free, total = 0, 0
        allocated = self._allocated[0].current
        unused = self._reserved[0].current - allocated
        return (f"CUDA out of memory. Tried to allocate {format_size(alloc_size)}. "
                f"GPU {self.device_index} has a total capacity of {format_size(total)} of "
                f"which {format_size(free)} is free. Of the allocated memory "
                f"{format_size(allocated)} is allocated by Genesis, and "
                f"{format_size(unused)} is reserved by Genesis but unallocated.")

    def free(self, block):
        """Return a block from malloc to the cache, merging it with free neighbours."""
        seg = block.segment
        if seg is None:              # 0-size block
            return
        with self._lock:
            if not block.allocated:
                raise RuntimeError(f"free of {block!r}, which is not allocated (double free?)")
            block.allocated = False
            p = 1 if seg.small else 2
            n = block.size
            a = self._allocated
            a[0].add(-n)
            a[p].add(-n)
            a = self._allocation
            a[0].add(-1)
            a[p].add(-1)
            self._requested.add(-block.requested)
            block.requested = 0
            pool = seg.pool
            prev = block.prev
            if prev is not None and not prev.allocated:
                _remove(pool, prev)
                prev.size += block.size
                prev.next = nxt = block.next
                if nxt is not None:
                    nxt.prev = prev
                block.prev = block.next = None
                block = prev
            nxt = block.next
            if nxt is not None and not nxt.allocated:
                _remove(pool, nxt)
                block.size += nxt.size
                block.next = after = nxt.next
                if after is not None:
                    after.prev = block
                nxt.prev = nxt.next = None
            insort(pool, (block.size, block.ptr, block))

    # ---- cache control ----------------------------------------------------------------
    def _release_cached(self):
        """Release every fully free segment to the raw provider; under the lock."""
        released = 0
        for seg in [s for s in self._segments.values()
                    if not s.head.allocated and s.head.next is None]:
            _remove(seg.pool, seg.head)
            del self._segments[seg.ptr]
            self.raw.free(seg.ptr)
            self.num_device_free += 1
            p = 1 if seg.small else 2
            for stats, n in ((self._reserved, seg.size), (self._segment, 1)):
                stats[0].add(-n)
                stats[p].add(-n)
            released += seg.size
        return released

    def empty_cache(self):
        """Release every fully free cached segment; returns the bytes released."""
        with self._lock:
            return self._release_cached()

    # ---- statistics -------------------------------------------------------------------
    def memory_allocated(self):
        return self._allocated[0].current

    def max_memory_allocated(self):
        return self._allocated[0].peak

    def memory_reserved(self):
        return self._reserved[0].current

    def max_memory_reserved(self):
        return self._reserved[0].peak

    def _all_stats(self):
        yield from self._allocated
        yield from self._reserved
        yield from self._allocation
        yield from self._segment
        yield self._requested

    def reset_peak_memory_stats(self):
        with self._lock:
            for s in self._all_stats():
                s.peak = s.current

    def reset_accumulated_memory_stats(self):
        with self._lock:
            for s in self._all_stats():
                s.allocated = s.freed = 0
            self.num_alloc_retries = self.num_ooms = 0
            self.num_device_alloc = self.num_device_free = 0

    def _inactive_split(self):
        """(bytes, count) of free blocks in segments that also hold other blocks: memory
        the cache cannot release."""
        nbytes = count = 0
        for pool in self._pools.values():
            for size, _, b in pool:
                if b.prev is not None or b.next is not None:
                    nbytes += size
                    count += 1
        return nbytes, count

    def memory_stats(self):
        """torch.cuda.memory_stats's flat dict (sorted keys) for the stats tracked here.
        Without record_stream, active_bytes/active equal allocated_bytes/allocation."""
        with self._lock:
            out = {}

            def put(name, stats, fields=("current", "peak", "allocated", "freed")):
                for pool, s in zip(_POOLS, stats):
                    for f in fields:
                        out[f"{name}.{pool}.{f}"] = getattr(s, f)

            put("allocated_bytes", self._allocated)
            put("active_bytes", self._allocated)
            put("reserved_bytes", self._reserved)
            put("allocation", self._allocation)
            put("active", self._allocation)
            put("segment", self._segment)
            put("requested_bytes", [self._requested])
            split_bytes, split_count = self._inactive_split()
            out["inactive_split_bytes.all.current"] = split_bytes
            out["inactive_split.all.current"] = split_count
            out["num_alloc_retries"] = self.num_alloc_retries
            out["num_ooms"] = self.num_ooms
            out["num_device_alloc"] = self.num_device_alloc
            out["num_device_free"] = self.num_device_free
        return collections.OrderedDict(sorted(out.items()))

    def memory_snapshot(self):
        """Segments and their blocks, in the shape of torch.cuda.memory_snapshot()."""
        with self._lock:
            out = []
            for seg in sorted(self._segments.values(), key=lambda s: s.ptr):
                blocks, b = [], seg.head
                while b is not None:
                    blocks.append({"address": b.ptr, "size": b.size,
                                   "requested_size": b.requested,
                                   "state": "active_allocated" if b.allocated else "inactive"})
                    b = b.next
                used = [x for x in blocks if x["state"] == "active_allocated"]
                out.append({"device": self.device_index, "address": seg.ptr,
                            "total_size": seg.size, "stream": seg.stream,
                            "segment_type": "small" if seg.small else "large",
                            "allocated_size": sum(x["size"] for x in used),
                            "active_size": sum(x["size"] for x in used),
                            "requested_size": sum(x["requested_size"] for x in used),
                            "blocks": blocks})
            return out

    def memory_summary(self, abbreviated=False):
        """A readable table of the stats, laid out like torch.cuda.memory_summary()."""
        st = self.memory_stats()
        width = 75
        rule, dbl = "|" + "-" * width + "|", "|" + "=" * width + "|"
        lines = [dbl, "|" + f" Genesis CUDA memory summary, device ID {self.device_index} "
                 .center(width) + "|", rule,
                 "|" + f"CUDA OOMs: {st['num_ooms']}".center(37) + "|"
                 + f"cudaMalloc retries: {st['num_alloc_retries']}".center(37) + "|",
                 dbl, "|" + "Metric".center(23) + "|" + "|".join(
                     h.center(12) for h in ("Cur Usage", "Peak Usage", "Tot Alloc",
                                            "Tot Freed")) + "|", rule]
        fields = ("current", "peak", "allocated", "freed")

        def row(label, values, fmt):
            cells = [fmt(v) for v in values] + [""] * (4 - len(values))
            return f"| {label:<22}|" + "|".join(f" {c:>10} " for c in cells) + "|"

        def size_fmt(v):
            for unit in ("B", "KiB", "MiB", "GiB"):
                if abs(v) < 768 * 1024 or unit == "GiB":
                    return f"{v} {unit:<3}"
                v //= 1024

        sections = [("Allocated memory", "allocated_bytes", size_fmt, True),
                    ("Active memory", "active_bytes", size_fmt, True),
                    ("Requested memory", "requested_bytes", size_fmt, False),
                    ("GPU reserved memory", "reserved_bytes", size_fmt, True),
                    ("Allocations", "allocation", str, True),
                    ("Active allocs", "active", str, True),
                    ("GPU reserved segments", "segment", str, True)]
        for label, key, fmt, pooled in sections:
            lines.append(row(label, [st[f"{key}.all.{f}"] for f in fields], fmt))
            if pooled and not abbreviated:
                for pool in ("large_pool", "small_pool"):
                    lines.append(row(f"      from {pool.replace('_', ' ')}",
                                     [st[f"{key}.{pool}.{f}"] for f in fields], fmt))
            lines.append(rule)
        lines.append(row("Non-releasable memory",
                         [st["inactive_split_bytes.all.current"]], size_fmt))
        lines.append(row("Non-releasable allocs", [st["inactive_split.all.current"]], str))
        lines.append(dbl)
        return "\n".join(lines) + "\n"
