"""`python -m talkinghead` runs the CLI."""

import sys

from talkinghead.cli import main

sys.exit(main())
