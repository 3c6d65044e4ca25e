"""The host side of the serial line: ``link`` (transport, DUT client, interface board),
``run`` (test scripts, runner, session writer), ``energy`` (monitors and integration) and
``analysis`` (finished sessions). It never imports the DUT side (``firmware_interface``),
the packager or the checker: those sit beside it or above it in the data flow."""
