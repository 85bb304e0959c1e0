"""`python -m alexnet_gui` starts the window."""

import sys

from .app import main

if __name__ == "__main__":  # not when a spawned worker process imports the main module
    sys.exit(main())
