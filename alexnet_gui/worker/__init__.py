"""The model's own process: it owns torch, the model and the device, and runs every
computation as a job. It knows nothing of Qt; the window talks to it through
``alexnet_gui.ui.bridge`` with small messages of plain data (``wire``)."""
