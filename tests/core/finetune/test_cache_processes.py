"""The feature cache shared by several processes of a node (the ranks of a torchrun launch):
writers of the same key at the same time never leave a torn or foreign entry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from alexnet_gui.core.finetune import FeatureCache
from alexnet_gui.core.finetune.cache import feature_key

KEY = feature_key("a" * 64, "b" * 64, "fc7", "plain")

WRITER = """
import sys
import numpy as np
from alexnet_gui.core.finetune import FeatureCache
cache = FeatureCache()
vector = np.arange(4096, dtype=np.float32) * float(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # both writers start together
for _ in range(int(sys.argv[1])):
    assert cache.put(sys.argv[3], vector)
"""


def test_two_processes_writing_one_key_leave_it_whole(private_cache):
    # The same key written 400 times by each of two processes while this one reads it. The
    # writers store different vectors (1x and 2x), so an entry pieced together from both would
    # show: every read is a miss (not there yet) or one writer's whole vector, and so is the end.
    vectors = [np.arange(4096, dtype=np.float32) * scale for scale in (1.0, 2.0)]
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, "400", scale, KEY], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for scale in ("1.0", "2.0")]
    for w in writers:
        assert w.stdout.readline().strip() == "ready"
    for w in writers:
        w.stdin.write("go\n")
        w.stdin.flush()
    cache = FeatureCache()
    reads = []
    while any(w.poll() is None for w in writers):
        reads.append(cache.get(KEY, 4096))
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    reads.append(cache.get(KEY, 4096))
    assert reads[-1] is not None
    assert all(any(np.array_equal(r, v) for v in vectors) for r in reads if r is not None)
    assert not list(private_cache.rglob("*.part"))  # no temp file of either writer left
