"""`python -m alexnet_gui.cli ...` runs `alexnet-cli ...`."""

import sys

from .run import main

if __name__ == "__main__":  # importing it (a module walk) runs nothing
    sys.exit(main())
