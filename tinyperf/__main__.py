"""``python -m tinyperf`` is the ``tinyperf`` command."""

from tinyperf.cli.main import entry

entry()
