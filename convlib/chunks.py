"""Bounded memory and every core: the vectorized passes work chunk by chunk.

The window matrix of eq. (34) is ``f^2`` times larger than the input (``ch_in f^2`` rows, one
column per output pixel). Built whole, a 2048 x 2048 image with ``f = 7`` needs 50 times the
image's memory. So :func:`convlib.conv_forward` and :func:`convlib.conv_backward` build it one
*chunk* at a time, a few images or (for one large image) a band of output rows, into a reused
buffer: the extra memory is a workspace of bounded size plus the outputs. Caffe's
convolution layer does im2col one image at a time for the same reason.

Chunks run on a small thread pool. numpy releases the GIL in its copies and its matrix
products, so the gather (im2col), the product and the scatter (col2im) of different chunks
run at the same time; inside a chunk the BLAS is limited to one thread (threadpoolctl), so
the threads do not compete with the BLAS's own.

Determinism: where the chunks fall depends on the sizes and the workspace only, never on the
number of threads; the partial sums of ``dW`` are added in chunk order, and overlapping bands
of ``dq`` too. The results are therefore bit-for-bit the same for any ``threads``.

Settings (module attributes, overridable per call by ``workspace=``, ``chunk=`` and
``threads=``):

- ``WORKSPACE``: bytes of window matrices alive at once, 64 MiB by default;
- ``CHUNK``: the target size of one chunk's window matrix, 4 MiB by default (a chunk is never
  smaller than one output row of one image);
- ``THREADS``: ``None`` means the cores this process may use.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ._validate import check_int

WORKSPACE = 64 * 2**20
CHUNK = 4 * 2**20
MIN_CHUNK = 2**18
SPLIT = 4
THREADS = None


@dataclass(frozen=True)
class Chunk:
    """Images ``n0 <= n < n1`` and, of those, output rows ``i0 <= i < i1``."""

    n0: int
    n1: int
    i0: int
    i1: int
    whole: bool  # all output rows of its images


def cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan(layer, itemsize: int, workspace=None, chunk=None) -> tuple[list[Chunk], int]:
    """Cut a :class:`convlib.Geometry` into chunks; returns them and how many may be alive at once.

    A chunk's window matrix has ``ch_in f^2`` rows and one column per output pixel it covers.
    Whole images are grouped while their matrix stays under ``CHUNK`` (and the workspace);
    an image larger than that is cut into bands of output rows. A ``chunk`` given in bytes
    replaces that target, and the ``SPLIT``/``MIN_CHUNK`` rule below, by itself.
    """
    workspace = WORKSPACE if workspace is None else check_int(workspace, "workspace", 1)
    row = layer.ch_in * layer.f * layer.f * layer.w_out * itemsize  # the matrix of one output row
    image = row * layer.h_out
    # so that a small layer still keeps the threads busy: at least SPLIT chunks once the whole
    # matrix reaches SPLIT * MIN_CHUNK; a smaller layer above MIN_CHUNK gets chunks of at most
    # MIN_CHUNK (this depends on sizes only, never on threads)
    if chunk is None:
        target = max(1, min(CHUNK, workspace, max(MIN_CHUNK, image * layer.n_b // SPLIT)))
    else:  # the caller sets the chunk size itself (measuring memory against it, say)
        target = max(1, min(check_int(chunk, "chunk", 1), workspace))
    if image <= target:
        per = max(1, target // image)
        chunks = [
            Chunk(n, min(n + per, layer.n_b), 0, layer.h_out, True)
            for n in range(0, layer.n_b, per)
        ]
        size = min(per, layer.n_b) * image
    else:
        per = max(1, target // row)
        chunks = [
            Chunk(n, n + 1, i, min(i + per, layer.h_out), False)
            for n in range(layer.n_b)
            for i in range(0, layer.h_out, per)
        ]
        size = min(per, layer.h_out) * row
    return chunks, max(1, workspace // size)


def _threads(threads) -> int:
    if threads is None:
        threads = THREADS if THREADS is not None else cores()
    return check_int(threads, "threads", 1)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_controller = None
_limit = None
POOL_THREADS = 64  # an upper bound: the pool starts a thread only when a task waits for one


def _executor() -> ThreadPoolExecutor:
    """The process's one pool, made once and never shut down while callers share it.

    Each call of :func:`run` keeps at most ``threads`` tasks in it, so callers with different
    ``threads`` share it safely (a pool replaced by a larger one used to be shut down under
    another caller's feet: "cannot schedule new futures after shutdown").
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="convlib")
        return _pool


_limited = 0  # callers inside blas_one_thread() now


@contextmanager
def blas_one_thread():
    """A context in which the BLAS runs on one thread (threadpoolctl), if it can be told.

    Concurrent callers share one limit: the first one in sets it, the last one out restores
    the BLAS's own setting (nested limits restored out of order would leave it at 1).
    """
    global _controller, _limited, _limit
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with _pool_lock:
        if _controller is None:
            _controller = ThreadpoolController()
        if _limited == 0:
            _limit = _controller.limit(limits=1, user_api="blas")
        _limited += 1
    try:
        yield
    finally:
        with _pool_lock:
            _limited -= 1
            if _limited == 0:
                _limit.restore_original_limits()


def run(work, layer, dtype, *, workspace=None, threads=None, consume=None, chunk=None):
    """Call ``work(chunk, buffer)`` for every chunk of a :class:`convlib.Geometry`, in threads.

    ``buffer`` is a reused flat array large enough for the chunk's window matrix. Results are
    passed to ``consume(chunk, result)`` in chunk order, in the calling thread, with at most as
    many results waiting as there are buffers; ``run`` returns nothing. With one chunk, the
    work runs right here with the BLAS as it is configured.
    """
    dtype = np.dtype(dtype)
    n_threads = _threads(threads)
    chunks, slots = plan(layer, dtype.itemsize, workspace, chunk)
    consume = consume or (lambda chunk, result: None)
    length = max((c.n1 - c.n0) * (c.i1 - c.i0) for c in chunks) * layer.w_out
    length *= layer.ch_in * layer.f * layer.f
    if len(chunks) == 1:
        consume(chunks[0], work(chunks[0], np.empty(length, dtype=dtype)))
        return
    workers = max(1, min(n_threads, slots, len(chunks)))
    buffers: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(workers):
        buffers.put(None)  # allocated when first needed

    def task(chunk):
        buf = buffers.get()
        if buf is None:
            buf = np.empty(length, dtype=dtype)
        try:
            return work(chunk, buf)
        finally:
            buffers.put(buf)

    with blas_one_thread():
        if workers == 1:
            for chunk in chunks:
                consume(chunk, task(chunk))
            return
        pool = _executor()
        pending: deque = deque()
        for chunk in chunks:
            if len(pending) == workers:
                done = pending.popleft()
                consume(done[0], done[1].result())
            pending.append((chunk, pool.submit(task, chunk)))
        while pending:
            done = pending.popleft()
            consume(done[0], done[1].result())


def workspace_bytes(layer, itemsize: int, workspace=None, threads=None, chunk=None) -> int:
    """The bytes of window matrices :func:`run` keeps alive at most, for the record."""
    chunks, slots = plan(layer, itemsize, workspace, chunk)
    per = max((c.n1 - c.n0) * (c.i1 - c.i0) for c in chunks) * layer.w_out
    per *= layer.ch_in * layer.f**2
    alive = 1 if len(chunks) == 1 else min(_threads(threads), slots, len(chunks))
    return math.prod((per, itemsize, alive))
