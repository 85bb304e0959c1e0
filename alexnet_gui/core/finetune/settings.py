"""What a user can change about a fine-tune, with defaults that work on fc7 features."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .errors import FinetuneError

# head:       backbone frozen; fc8 trains on cached fc7 features (N, 4096).
# classifier: fc6-fc8 train on cached pool5 features (N, 9216), dropout active.
# all:        every layer trains on augmented images; no cache (made for CUDA).
MODES = ("head", "classifier", "all")
# What each mode trains, as state_dict prefixes; every other layer keeps the base's weights.
TRAINED_LAYERS = {"head": ("classifier.6",), "classifier": ("classifier.1", "classifier.4", "classifier.6"),
                  "all": ("features", "classifier")}
OPTIMIZERS = ("adam", "sgd")


@dataclass
class FinetuneSettings:
    mode: str = "head"
    epochs: int = 10
    lr: float = 1e-3  # the new head's learning rate
    # Layers that arrive pretrained (fc6/fc7, convs in "all") learn this much slower,
    # so a few epochs on a small folder refine them instead of wiping them out.
    backbone_lr_scale: float = 0.1
    optimizer: str = "adam"  # Adam converges in a few epochs on fc7 features; SGD uses momentum 0.9
    batch_size: int = 64
    weight_decay: float = 1e-4
    seed: int = 0  # drives the split, the head's init, shuffling, dropout and augmentation
    val_fraction: float = 0.2  # used when the folder has no train/ + val/ of its own
    flip_view: bool = False  # also train on horizontally flipped copies (cached separately)

    def validate(self) -> FinetuneSettings:
        """Raise FinetuneError naming the first bad value; returns self."""
        if self.mode not in MODES:
            raise FinetuneError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.optimizer not in OPTIMIZERS:
            raise FinetuneError(f"unknown optimizer {self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise FinetuneError(f"epochs must be a whole number >= 1, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise FinetuneError(f"batch size must be a whole number >= 1, got {self.batch_size!r}")
        if not self.lr > 0:
            raise FinetuneError(f"learning rate must be > 0, got {self.lr!r}")
        if not 0 <= self.backbone_lr_scale <= 1:
            raise FinetuneError(f"backbone_lr_scale must be within 0..1, got {self.backbone_lr_scale!r}")
        if not self.weight_decay >= 0:
            raise FinetuneError(f"weight decay must be >= 0, got {self.weight_decay!r}")
        if not 0 < self.val_fraction < 1:
            raise FinetuneError(f"validation fraction must be between 0 and 1, got {self.val_fraction!r}")
        if not isinstance(self.seed, int):
            raise FinetuneError(f"seed must be a whole number, got {self.seed!r}")
        return self

    def as_dict(self) -> dict:
        return asdict(self)
