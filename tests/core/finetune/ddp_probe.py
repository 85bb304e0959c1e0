"""A ``torchrun`` target for test_distributed_finetune.py: both ranks fine-tune every layer
(mode ``all``) of the seeded model on FOLDER with DistributedDataParallel, and rank 0 prints
JSON with each rank's final weights (a checksum per layer) and what rank 0 reported."""

from __future__ import annotations

import json
import sys

from alexnet_gui.core.distributed import Launch, Team
from alexnet_gui.core.finetune import FinetuneSettings, run_finetune
from alexnet_gui.core.model import build_model

if __name__ == "__main__":
    import alexnet_gui.core.finetune.run as run_module

    kept = {}
    real_copy = run_module.private_copy

    def keep(base, device):  # the rank's model, to read its weights after the run
        kept["model"] = real_copy(base, device)
        return kept["model"]

    run_module.private_copy = keep
    settings = FinetuneSettings(mode="all", epochs=1, batch_size=4, seed=3)
    with Team.start(Launch.from_environ(), "cpu") as team:
        result = run_finetune(sys.argv[1], settings, build_model(seed=0).eval(), "f" * 64, "cpu", team=team)
        sums = {k: float(v.double().sum()) for k, v in kept["model"].state_dict().items()}
        every = team.gather_objects(sums)
        if team.is_root:
            print(json.dumps({"sums": every, "epochs": len(result.epochs), "val": result.val_count,
                              "train": result.train_count}))
        else:
            assert result is None
