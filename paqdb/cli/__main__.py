"""``python -m paqdb.cli``: the ``paqdb`` command."""

import sys

from paqdb.cli.shell import main

sys.exit(main())
