"""`python -m bot` runs the `liqwatch` command line."""

import sys

from bot.cli import main

sys.exit(main())
