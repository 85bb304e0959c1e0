"""A ``torchrun`` target for tests/core/test_distributed.py: each rank joins a Team (gloo),
shares out 7 rows and gathers them back, and rank 0 prints what it saw as JSON."""

from __future__ import annotations

import json

import numpy as np

from alexnet_gui.core.distributed import Launch, Team

if __name__ == "__main__":
    with Team.start(Launch.from_environ(), "cpu") as team:
        told = team.broadcast({"files": ["a", "b"]} if team.is_root else "ignored")
        lo, hi = team.bounds(7)
        rows = np.arange(7 * 3, dtype=np.float32).reshape(7, 3)[lo:hi] + 0.5
        gathered = team.gather_rows(rows)
        objects = team.gather_objects({"rank": team.rank, "share": [lo, hi]})
        counted = team.count("probe", hi - lo)
        team.barrier()
        total = team.count("probe")
        if team.is_root:
            print(json.dumps({"told": told, "rows": gathered.tolist(), "objects": objects, "total": total,
                              "backend": team.backend, "counted_at_least": counted}))
