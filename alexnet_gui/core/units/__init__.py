"""What a unit sees: the images of a folder that excite it most (``scan``), and the image
made by optimisation that it wants (``visualize``).

Importing this package does not import torch: the layer names, the receptive fields and
the result types are what the window reads. ``scan`` and ``visualize`` need torch.
"""

from .layers import (
    CLASS_LAYER,
    UNIT_LAYERS,
    ReceptiveField,
    UnitError,
    canonical_layer,
    is_spatial,
    layer_label,
    receptive_fields,
)
from .types import TopImage, TopImages, Unit, UnitFrame, UnitPicture, VisualizeSettings

__all__ = ["CLASS_LAYER", "UNIT_LAYERS", "ReceptiveField", "TopImage", "TopImages", "Unit", "UnitError",
           "UnitFrame", "UnitPicture", "VisualizeSettings", "canonical_layer", "is_spatial", "layer_label",
           "receptive_fields"]
