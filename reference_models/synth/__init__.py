"""Synthetic audio generators for the demo input sets (speech via espeak-ng, machine sounds)."""
