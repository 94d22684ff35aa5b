"""Threads of one host never render more shards at once than it has GPU slots."""

from __future__ import annotations

import threading
import time

from tasks.render import gpu_slot


def test_gpu_slots_bound_concurrent_renders():
    active, peak = 0, 0
    lock = threading.Lock()

    def render():
        nonlocal active, peak
        with gpu_slot(uses_gpu=True, slots=2):
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1

    threads = [threading.Thread(target=render) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2


def test_cpu_renderers_are_not_limited():
    with gpu_slot(uses_gpu=False), gpu_slot(uses_gpu=False):
        pass  # a semaphore of one would deadlock here
