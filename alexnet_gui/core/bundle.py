"""A model together with what the user needs to read its output: class names and
where its weights came from. The CLI and the GUI worker both start here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .device import place_model
from .model import AlexNet, build_model
from .untrained import UNTRAINED_SEED
from .weights import LoadedWeights, build_model_from_weights, imagenet_categories, load_weights, resolve_weights


@dataclass
class ModelBundle:
    model: AlexNet
    class_names: list[str]
    source: str  # "imagenet" | "finetuned" | "state_dict" | "untrained"
    weights_path: str | None = None
    sha256: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return self.source != "untrained"

    @property
    def num_classes(self) -> int:
        return self.model.num_classes

    def describe(self) -> str:
        """One line for the status bar and the CLI: where the weights came from."""
        name = Path(self.weights_path).name if self.weights_path else "not saved"
        if self.source == "imagenet":
            return f"ImageNet weights ({name})"
        if self.source == "finetuned":
            return f"fine-tuned, {self.num_classes} classes ({name})"
        if self.source == "state_dict":
            return f"weights file, {self.num_classes} classes ({name})"
        return "untrained (random weights)"

    def to(self, device: torch.device) -> "ModelBundle":
        place_model(self.model, device)
        return self


def class_names_for(loaded: LoadedWeights) -> list[str]:
    if loaded.class_names:
        return list(loaded.class_names)
    if loaded.num_classes == 1000:
        return imagenet_categories()
    return [f"class {i}" for i in range(loaded.num_classes)]


def bundle_from_file(path: str | Path) -> ModelBundle:
    """Load a weights file (any accepted kind); raises ``WeightsError``."""
    loaded = load_weights(path)
    model = build_model_from_weights(loaded)
    return ModelBundle(model, class_names_for(loaded), loaded.kind, loaded.path, loaded.sha256, loaded.meta)


def untrained_bundle(seed: int = UNTRAINED_SEED) -> ModelBundle:
    return ModelBundle(build_model(seed=seed), imagenet_categories(), "untrained")


def load_bundle(weights: str | Path | None = None) -> ModelBundle:
    """Explicit path -> hub cache -> the untrained model (``kind == "untrained"``)."""
    path = resolve_weights(weights)
    return bundle_from_file(path) if path is not None else untrained_bundle()
