"""sww01 (streaming wakeword): the reference DUT's device pipeline, run on the host.

``features`` holds the float32 log-mel chain of the firmware (sww01_model.md 1-3),
``wav`` reads stream WAVs into 512-sample blocks, ``device`` is the per-block DUT
(features → 30x40 int8 input → model → detection rule → activation log) and ``evaluate``
streams a WAV + truth file through it and scores the detections like the runner.
"""
