"""Pure PyTorch + Pillow core. Nothing under this package imports Qt."""
