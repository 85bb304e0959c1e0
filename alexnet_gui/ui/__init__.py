"""PySide6 views and widgets. Thin: the maths lives in ``alexnet_gui.core``.

UI modules never import torch (or a core module that does) at module level:
the window must appear before torch has loaded.
"""
