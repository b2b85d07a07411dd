"""``python -m backprop_cli.docs``: write (or with ``--check``, check) docs/examples/."""

import sys

from backprop_cli.docs import main

sys.exit(main())
