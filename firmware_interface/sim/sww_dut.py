"""A virtual sww01 DUT: the reference streaming firmware's commands around the real device
pipeline (``tinyperf.reference_models.sww.device.SwwDevice``: features, real .tflite, rule).

Same surface as ``VirtualDut`` (``boot``, ``reset``, ``feed_responses``, ``clock``), so the
fake interface board relays it unchanged. Commands (protocol.md 7.2): every one is first
echoed as ``Received command: {cmd}``; ``name``, ``profile`` (``m-model-[sww01]``),
``start`` (clear the log, timestamp pulse = energy window start, a ~1 µs PROCESSING pulse,
arm reception), ``stop`` (timestamp pulse = window end, ``Streaming stopped.``, the
activation log 16 values a line); all end with ``m-ready``.

Audio comes from the board (``audio_block``), one 512-sample block at a time, at the DUT
time the block is complete. Per block: PROCESSING high, the pipeline runs, the DUT is busy
for ``processing_us`` on its clock (the power model sees it), then a WW_DETECTED pulse if
the rule holds (or on the first block), PROCESSING low. The board records both signals
through ``on_processing`` / ``on_detection`` (DUT µs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from tinyperf.formats import protocol as p
from tinyperf.formats import sww_protocol as sww

from .clock import SimClock
from .core import Delay, Response

SWW_MODEL_ID = "sww01"
#: Default time the DUT spends on one 32 ms block (the L4R5 reference: ~18 ms, duty ≈ 0.56).
DEFAULT_PROCESSING_US = 18_000
#: Width of the alignment PROCESSING pulse at ``start``.
ALIGN_PULSE_US = 1


class StepDevice(Protocol):
    """What the DUT needs from the pipeline (``SwwDevice``)."""

    activations: list[int]

    def start(self) -> None: ...

    def step(self, block: np.ndarray) -> Any: ...


class SwwDut:
    """The sww reference firmware's command loop and per-block processing."""

    def __init__(self, device: StepDevice, *, clock: SimClock | None = None,
                 processing_us: int = DEFAULT_PROCESSING_US, vendor: str = p.DEFAULT_VENDOR,
                 firmware: str = p.FIRMWARE_PROFILE,
                 on_timestamp: Callable[[int], None] | None = None,
                 stop_text: str | None = None) -> None:
        if processing_us <= 0:
            raise ValueError("processing time must be > 0 µs")
        self.device = device
        self.clock = clock or SimClock()
        self.processing_us = int(processing_us)
        self.vendor = vendor
        self.firmware = firmware
        self.on_timestamp = on_timestamp
        #: board inputs: PROCESSING edges (µs, rising) and WW_DETECTED falling edges (µs)
        self.on_processing: Callable[[int, bool], None] | None = None
        self.on_detection: Callable[[int], None] | None = None
        #: a third-party ``stop`` text instead of the reference's activation log
        self.stop_text = stop_text
        self.streaming = False
        self.booted = False
        self.steps = 0
        self._cmd = bytearray()

    # -- VirtualDut-like surface -------------------------------------------------------------

    def boot(self) -> list[str]:
        self._cmd.clear()
        self.streaming = False
        self.booted = True
        return [p.MSG_READY]

    reset = boot

    def feed_responses(self, data: bytes) -> list[Response]:
        responses = []
        for byte in data:
            if byte == p.COMMAND_END[0]:
                text = self._cmd.decode("latin-1")
                self._cmd.clear()
                responses.append(self.execute(text))
            else:
                self._cmd.append(byte)
        return responses

    def execute(self, text: str) -> Response:
        verb = text.strip().split(" ")[0] if text.strip() else ""
        out: list[str | Delay] = [sww.ECHO_PREFIX + text]
        handler = getattr(self, f"_cmd_{verb}", None) if verb.isidentifier() else None
        if handler is not None:
            handler(out)
        out.append(p.MSG_READY)
        return Response(text, verb, out)

    # -- commands ------------------------------------------------------------------------------

    def _cmd_name(self, out: list[str | Delay]) -> None:
        out.append(p.msg_name(self.vendor))

    def _cmd_profile(self, out: list[str | Delay]) -> None:
        out.append(p.msg_profile(self.firmware))
        out.append(p.msg_model(SWW_MODEL_ID))

    def _cmd_start(self, out: list[str | Delay]) -> None:
        if self.streaming:
            out.append(sww.START_BUSY)
            return
        self.device.start()
        self.steps = 0
        now = self.clock.now_us()
        if self.on_timestamp is not None:
            self.on_timestamp(now)
        self._processing(now, True)
        self._processing(now + ALIGN_PULSE_US, False)
        self.streaming = True
        out += [sww.START_LISTENING, sww.START_DMA]

    def _cmd_stop(self, out: list[str | Delay]) -> None:
        if not self.streaming:
            out.append(sww.STOP_IDLE)
            return
        self.streaming = False
        if self.on_timestamp is not None:
            self.on_timestamp(self.clock.now_us())
        if self.stop_text is not None:
            out.append(self.stop_text)
            return
        out.append(sww.STOP_DONE)
        out += sww.format_activations(self.device.activations)

    # -- audio -----------------------------------------------------------------------------------

    def audio_block(self, block: np.ndarray) -> None:
        """One complete 512-sample block at the DUT's present time (ignored when idle)."""
        if not self.streaming:
            return
        t0 = self.clock.now_us()
        self._processing(t0, True)
        result = self.device.step(block)
        self.clock.advance(self.processing_us)  # busy: the power model draws active current
        t1 = t0 + self.processing_us
        if result.detected and self.on_detection is not None:
            self.on_detection(t1)
        self._processing(t1, False)
        self.steps += 1

    def _processing(self, t_us: int, rising: bool) -> None:
        if self.on_processing is not None:
            self.on_processing(t_us, rising)
