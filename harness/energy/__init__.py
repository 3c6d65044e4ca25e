"""Energy mode: monitors behind one interface, captures, integration, and the energy run."""
