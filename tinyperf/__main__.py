"""``python -m tinyperf`` is the ``tinyperf`` command."""

import sys

from tinyperf.cli.main import main

sys.exit(main())
