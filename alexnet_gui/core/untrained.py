"""The untrained model's name and warning, one source for the window and the CLI
(no torch here: the window reads it without loading the model)."""

from __future__ import annotations

UNTRAINED_SEED = 0  # the seeded random AlexNet used while no ImageNet weights are found
UNTRAINED_KEY = f"untrained-seed{UNTRAINED_SEED}"  # its name in the feature cache and a saved model

# The first sentence is the same everywhere; the advice on getting weights is each front end's own.
UNTRAINED_WARNING = "No ImageNet weights found: predictions use an untrained model and are random."


def base_key(sha256: str | None) -> str:
    """What a base model is known by in the feature cache and a saved model: its file's
    hash, or for the untrained model UNTRAINED_KEY, so the window and the CLI share
    cached features."""
    return sha256 or UNTRAINED_KEY
