"""`python -m warroom`: the `warroom` command, for when the console script is not on the PATH."""

from __future__ import annotations

import sys

from warroom.cli import main

sys.exit(main())
