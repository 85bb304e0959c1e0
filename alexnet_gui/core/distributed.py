"""Heavy work across processes and nodes with ``torch.distributed``, launched by ``torchrun``.

``torchrun`` starts one process per CPU group or GPU and tells each who it is
(``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, and where to meet). A ``Team`` is
one such process's view of the run: it joins the process group (gloo on the
CPU, NCCL on CUDA with one GPU per local rank), and offers the few operations
the app needs:

- ``broadcast``: rank 0's object (the scanned file list and split) to every rank;
- ``bounds``: this rank's contiguous, deterministic share of N items
  (``shard_bounds``: the first ``N % W`` ranks take one more);
- ``gather_rows`` / ``gather_objects``: every rank's share to rank 0, in rank order,
  which for contiguous shares is the input order;
- ``count``: a run-wide counter in the process group's key-value store, so rank 0
  can report progress over all ranks without a collective per batch.

Failure: every collective waits at most ``timeout_s`` (``ALEXNET_GUI_DIST_TIMEOUT``,
default 1,800 s); a rank that dies is also seen by ``torchrun``, which stops the
others and names the failed rank and its exit cause. No Qt here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

TIMEOUT_ENV = "ALEXNET_GUI_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800.0


class DistributedError(RuntimeError):
    """The process group could not be joined or a collective failed."""


@dataclass(frozen=True)
class Launch:
    """Who this process is in a ``torchrun`` launch."""

    world_size: int
    rank: int
    local_rank: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Launch | None:
        """The launch ``torchrun`` described, or None for a plain (single) process.

        A world of one is a plain process too: nothing to share."""
        env = os.environ if environ is None else environ
        try:
            world = int(env.get("WORLD_SIZE", "1"))
            rank = int(env.get("RANK", "0"))
            local = int(env.get("LOCAL_RANK", str(rank)))
        except ValueError as exc:
            raise DistributedError(f"WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers ({exc})") from None
        if world <= 1:
            return None
        if not 0 <= rank < world:
            raise DistributedError(f"RANK {rank} is outside a world of {world}")
        return cls(world, rank, local)


def shard_bounds(n: int, world_size: int, rank: int) -> tuple[int, int]:
    """[lo, hi) of rank's contiguous share of ``n`` items: sizes differ by at most one,
    the larger shares first, and the shares of ranks 0..W-1 in order are 0..n."""
    base, extra = divmod(n, world_size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def timeout_from_environ() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise DistributedError(f"{TIMEOUT_ENV} must be a number of seconds, not {raw!r}") from None


class Team:
    """This process's place in a started process group (see the module's doc)."""

    def __init__(self, launch: Launch, device: torch.device, backend: str) -> None:
        self.launch = launch
        self.rank = launch.rank
        self.world_size = launch.world_size
        self.is_root = launch.rank == 0
        self.device = device
        self.backend = backend
        self._counts: dict[str, int] = {}

    @classmethod
    def start(cls, launch: Launch, device: torch.device | str = "cpu", timeout_s: float | None = None) -> Team:
        """Join the process group: gloo for the CPU; NCCL on CUDA, where local rank k takes GPU k."""
        device = torch.device(device)
        if device.type == "cuda":
            count = torch.cuda.device_count()
            if launch.local_rank >= count:
                raise DistributedError(f"local rank {launch.local_rank} has no GPU of its own ({count} on this node); "
                                       "start at most one process per GPU")
            device = torch.device("cuda", launch.local_rank)
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        timeout = timedelta(seconds=timeout_s if timeout_s is not None else timeout_from_environ())
        try:
            dist.init_process_group(backend, rank=launch.rank, world_size=launch.world_size, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - any rendezvous failure is reported the same way
            raise DistributedError(f"rank {launch.rank}: could not join the process group ({exc})") from None
        return cls(launch, device, backend)

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()

    def __enter__(self) -> Team:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def name(self) -> str:
        return f"rank {self.rank} of {self.world_size}"

    def bounds(self, n: int) -> tuple[int, int]:
        return shard_bounds(n, self.world_size, self.rank)

    def broadcast(self, obj=None):
        """Rank 0's ``obj`` on every rank (pickled; the others' ``obj`` is ignored)."""
        box = [obj if self.is_root else None]
        dist.broadcast_object_list(box, src=0, device=self._object_device())
        return box[0]

    def gather_objects(self, obj) -> list | None:
        """Every rank's ``obj`` in rank order on rank 0; None on the others."""
        out = [None] * self.world_size if self.is_root else None
        dist.gather_object(obj, out, dst=0)
        return out

    def gather_rows(self, rows: np.ndarray) -> np.ndarray | None:
        """Every rank's (m_r, D) float32 rows stacked in rank order on rank 0; None on the others.

        Two collectives: the row counts (all-gather of one number), then a gather of
        the rows padded to the largest share (gloo and NCCL gather equal shapes)."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        dim = rows.shape[1]
        sizes = [torch.zeros(1, dtype=torch.int64, device=self.device) for _ in range(self.world_size)]
        dist.all_gather(sizes, torch.tensor([rows.shape[0]], dtype=torch.int64, device=self.device))
        counts = [int(s.item()) for s in sizes]
        padded = torch.zeros((max(counts), dim), dtype=torch.float32, device=self.device)
        padded[: rows.shape[0]] = torch.from_numpy(rows).to(self.device)
        if not self.is_root:
            dist.gather(padded, None, dst=0)
            return None
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.gather(padded, parts, dst=0)
        return np.concatenate([p[:c].cpu().numpy() for p, c in zip(parts, counts)])

    def barrier(self) -> None:
        dist.barrier()

    def count(self, key: str, add: int = 0) -> int:
        """Add to the run-wide counter ``key`` and return its total over all ranks.

        Lives in the process group's store (no collective: ranks need not call it
        together); where that store cannot be reached, this rank's own count."""
        store = _default_store()
        if store is None:
            self._counts[key] = self._counts.get(key, 0) + add
            return self._counts[key]
        return int(store.add(f"alexnet_gui/{key}", add))

    def _object_device(self) -> torch.device | None:
        return self.device if self.backend == "nccl" else None


def _default_store():
    try:
        return dist.distributed_c10d._get_default_store()
    except Exception:  # noqa: BLE001 - a private helper of torch: fall back to local counts
        return None


__all__ = ["DEFAULT_TIMEOUT_S", "DistributedError", "Launch", "TIMEOUT_ENV", "Team", "shard_bounds",
           "timeout_from_environ"]
