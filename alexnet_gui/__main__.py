"""`python -m alexnet_gui` starts the window."""

import sys

from .app import main

sys.exit(main())
