"""One run of a mode on a DUT: test scripts, datasets, the runner, latency mode, and the
session folder it writes (MLCommons formats, incremental, resumable)."""
