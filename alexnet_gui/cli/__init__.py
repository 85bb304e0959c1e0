"""`alexnet-cli`: everything the window does, headless, for scripts and tests.

Exit codes: 0 success, 1 some inputs failed (the rest still printed), 2 usage or
weights errors, 130 interrupted. No traceback reaches the user for an expected error.

``parser`` builds the whole command line from one module per command group
(``summary``, ``classify``, ``weights``, ``views``, ``finetune``, ``cache``);
``common`` holds what they share; ``run.main`` is the entry point.
"""

from .common import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, CliError, StopOnCtrlC
from .parser import build_parser
from .run import main

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "CliError", "StopOnCtrlC", "build_parser", "main"]
