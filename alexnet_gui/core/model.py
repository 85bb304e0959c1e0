"""AlexNet, written out layer by layer.

The module layout (``features``, ``avgpool``, ``classifier``) and therefore the
``state_dict`` keys and shapes are exactly torchvision's, so its ImageNet file
``alexnet-owt-7be5be79.pth`` loads unchanged. This is the "one weird trick"
variant torchvision ships (64/192/384/256/256 channels, no LRN), not the 2012
two-GPU paper layout.
"""

from __future__ import annotations

import torch
from torch import nn

# Smallest square input the feature stack accepts: conv1 (11, stride 4) then
# three 3x3/2 max-pools need at least 63 pixels to leave a 1x1 map.
MIN_INPUT_SIZE = 63


class InputTooSmallError(ValueError):
    pass


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # (B, 64, 55, 55)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 64, 27, 27)
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # (B, 192, 27, 27)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 192, 13, 13)
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # (B, 384, 13, 13)
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # (B, 256, 13, 13)
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # (B, 256, 13, 13)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 6, 6)
        )
        # Makes the head independent of input size: any map >= 1x1 becomes 6x6.
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),  # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),  # fc7
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),  # fc8: logits, no softmax
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x.shape[-2], x.shape[-1])
        x = self.features(x)  # (B, 256, 6, 6) at 224
        x = self.avgpool(x)
        x = torch.flatten(x, 1)  # (B, 9216)
        return self.classifier(x)  # (B, num_classes)

    @property
    def num_classes(self) -> int:
        return self.classifier[6].out_features


def check_input_size(height: int, width: int) -> None:
    if height < MIN_INPUT_SIZE or width < MIN_INPUT_SIZE:
        raise InputTooSmallError(
            f"input of {width}x{height} pixels is too small for AlexNet: "
            f"the minimum is {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}"
        )


def swap_head(model: AlexNet, num_classes: int) -> AlexNet:
    """Replace fc8 (``classifier[6]``) with a fresh ``Linear(4096, num_classes)``.

    Every other layer keeps its weights. The new layer lands on the model's device.
    """
    if num_classes < 1:
        raise ValueError(f"a head needs at least one class, got {num_classes}")
    old = model.classifier[6]
    new = nn.Linear(old.in_features, num_classes)
    model.classifier[6] = new.to(device=old.weight.device, dtype=old.weight.dtype)
    return model


def build_model(num_classes: int = 1000, seed: int | None = None) -> AlexNet:
    """A model in eval mode; ``seed`` gives reproducible random ("untrained") weights."""
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = AlexNet(num_classes=num_classes)
    else:
        model = AlexNet(num_classes=num_classes)
    return model.eval()


def meta_model(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """An AlexNet on the meta device: shapes and parameter counts, nothing allocated or initialised."""
    with torch.device("meta"):
        return AlexNet(num_classes=num_classes, dropout=dropout)


def model_from_state_dict(state_dict, num_classes: int, *, dropout: float = 0.5,
                          device: torch.device | str = "cpu") -> AlexNet:
    """An eval-mode AlexNet on ``device`` (the CPU by default) holding a copy of ``state_dict``.

    Built on the meta device, then given empty storage: skips the random init of
    61 M parameters (half a second on a CPU) that the copy overwrites anyway.
    Strict: a missing, extra or misshapen key raises; callers that owe the user a
    message naming the layer check first with ``weights.check_state_dict``.
    """
    model = meta_model(num_classes, dropout).to_empty(device=device)
    model.load_state_dict(state_dict, strict=True)
    return model.eval()
