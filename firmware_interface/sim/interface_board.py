"""Fake interface boards around a ``VirtualDut``: the STM32H573I-DK "enhanced" board
(``BoardCore``) and the EEMBC-era legacy Arduino IO manager (``LegacyBoardCore``).

``BoardCore`` has the same shape as ``VirtualDut`` (``boot``, ``reset``,
``feed_responses``), so ``SimServer`` serves it on a real pty with the same pacing and
fault injection as a DUT. Commands (protocol.md 2.1-2.3): ``name``, ``setbaud N``,
``checkbaud``, ``dut {cmd}`` (``m-dut-passthrough({cmd})`` + ``m-ready``, then the DUT's
lines prefixed ``[dut]: `` up to ``[dut]: m-ready``); prefix matching as the firmware
does: a near miss (``names``, ``dut `` with nothing after the space) gets no reply at
all; anything else gets a bare ``m-ready``.

The DUT runs in-process. Its commands execute under ``lock`` (the power model's), and
``after_dut`` hooks run before its answer is relayed: an energy monitor's data about
the command is then already out, as on real hardware where the DUT's UART at 9600 baud
is far slower than the monitor's stream. ``dut_wire_time`` also lets the DUT's UART
time pass on its clock (command in, reply out, at ``dut_baud``), the DUT idle meanwhile:
a rig whose clock does not follow wall time needs it, or nothing would move the DUT
clock past its last timestamp.

The legacy board (protocol.md 2.4) has the EEMBC command list: ``tm 0|1`` answers
``m-timestmp-mode-FALLING`` (sic; ``tm 1``: ``m-timestmp-mode-CHANGE``, an assumption)
and ``m-[Timer disabled after mode change]``; ``enable-timer`` / ``disable-timer``
answer ``m-timer-enabled`` / ``m-timer-disabled``; ``dut`` is the same pass-through. It
has no ``setbaud``/``checkbaud``: they get ``e-[Unknown command: ...]`` here (the real
reply is not documented), and ``commands`` keeps every command received so tests can
prove what the host sent. Its ``name`` and ``version`` replies are not quoted by the spec:
``LEGACY_NAME`` / ``LEGACY_VERSION`` are this simulator's own strings.
"""

from __future__ import annotations

import contextlib
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinyperf.formats import board_protocol as ib
from tinyperf.formats import protocol as p
from tinyperf.formats import sww_protocol as sww
from tinyperf.formats.errors import DatasetError
from tinyperf.reference_models.sww.wav import read_blocks

from .core import Delay, Response, VirtualDut

BOARD_NAME = ib.ENHANCED_NAME
DEFAULT_DUT_BAUD = 9600
LEGACY_NAME = "m-name-ioman-[tinyperf simulated Arduino IO manager]"
LEGACY_VERSION = "m-version-[tinyperf-sim-1]"


class BoardCore:
    """The interface board's protocol state machine, forwarding ``dut`` to ``dut``."""

    kind = ib.ENHANCED
    #: Command names, matched by prefix in this order (as the firmware does).
    COMMANDS: tuple[str, ...] = ("dut", "name", "ls", "play", "setbaud", "checkbaud",
                                 "record_detections", "print_detections", "print_dutycycle")

    def __init__(self, dut: VirtualDut, *, lock: Any = None,
                 after_dut: list[Callable[[], None]] | None = None,
                 dut_baud: int = DEFAULT_DUT_BAUD, dut_wire_time: bool = False,
                 sd_card: str | Path | None = None, realtime: bool = False):
        self.dut = dut
        #: sww01 audio: the SD card folder ``play`` reads, and whether blocks are paced at
        #: 16 kHz of wall time (else as fast as the pipeline runs, on the DUT clock only)
        self.sd_card = Path(sd_card) if sd_card is not None else None
        self.realtime = realtime
        self.recording = False
        self.detections_ms: list[int] = []
        self.duty_starts: list[int] = []
        self.duty_stops: list[int] = []
        self.played: list[str] = []  # files played, and why a play failed (tests, logs)
        self.play_errors: list[str] = []
        self._origin_us = 0
        if hasattr(dut, "on_processing"):  # a streaming DUT: wire its two output pins in
            dut.on_processing = self._processing_edge
            dut.on_detection = self._detection_edge
        self.dut_wire_time = dut_wire_time
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.after_dut = list(after_dut or [])
        self.dut_baud = dut_baud
        self.resets = 0
        self.commands: list[str] = []  # every complete command received, in order
        self._cmd = bytearray()

    # -- the VirtualDut-like surface used by SimServer ---------------------------------------

    def boot(self) -> list[str]:
        """Board power-on; the DUT boots behind it (its banner is not relayed)."""
        self._cmd.clear()
        with self.lock:
            self.dut.boot()
        return []

    def reset(self) -> list[str]:
        self.resets += 1
        self._cmd.clear()
        return []

    def feed_responses(self, data: bytes) -> list[Response]:
        responses = []
        for byte in data:
            if byte == p.COMMAND_END[0]:
                text = self._cmd.decode("latin-1")
                self._cmd.clear()
                response = self.execute(text)
                if response is not None:
                    responses.append(response)
            else:
                self._cmd.append(byte)
        return responses

    # -- commands ----------------------------------------------------------------------------

    def execute(self, text: str) -> Response | None:
        """One board command; None when the firmware would not answer at all."""
        self.commands.append(text)
        match = next((c for c in self.COMMANDS if text.startswith(c)), None)
        if match is None:
            return Response(text, "", [p.MSG_READY])
        rest = text[len(match):]
        if rest and not (rest.startswith(" ") and len(rest) > 1):
            return None  # 'names', 'dut ': prefix of a command but neither form
        args = rest[1:]
        handler = getattr(self, f"_cmd_{match.replace('-', '_')}", self._cmd_other)
        return Response(text, match, handler(args))

    def _cmd_name(self, _args: str) -> list[str | Delay]:
        return [BOARD_NAME, p.MSG_READY]

    def _cmd_setbaud(self, args: str) -> list[str | Delay]:
        rate = int(args) if args.strip().isdigit() else 0
        self.dut_baud = rate if 0 < rate <= 2_000_000 else DEFAULT_DUT_BAUD
        self.resets += 1  # the real board resets itself after storing the rate
        return [f"set baud to: {args}", p.MSG_READY]

    def _cmd_checkbaud(self, _args: str) -> list[str | Delay]:
        return [f"baud is: {self.dut_baud}", p.MSG_READY]

    def _cmd_other(self, _args: str) -> list[str | Delay]:
        return [p.MSG_READY]

    def _wire(self, nbytes: int) -> None:
        """DUT time for ``nbytes`` on the board-to-DUT UART (8N1), the DUT idle meanwhile.

        Rounded up to whole ms: a deterministic rig (clock not following wall time) then
        keeps every DUT event on the monitor's 1 ms sample grid.
        """
        if not self.dut_wire_time or nbytes <= 0:
            return
        us = -(-nbytes * 10 * 1_000_000 // self.dut_baud)
        us = -(-us // 1000) * 1000
        clock = self.dut.clock
        getattr(clock, "idle", clock.advance)(us)

    # -- sww01: SD card player and the two recorded inputs (protocol.md 2.2) ------------------

    def _ticks(self, t_us: int) -> int:
        return (int(t_us) - self._origin_us) // sww.TICK_US

    def _processing_edge(self, t_us: int, rising: bool) -> None:
        """DUT_DUTY_CYCLE: a rising edge stores a start, a falling one a stop (≤ 100 each)."""
        if not self.recording:
            return
        target = self.duty_starts if rising else self.duty_stops
        if len(target) < sww.MAX_DUTY_EDGES:
            target.append(self._ticks(t_us))

    def _detection_edge(self, t_us: int) -> None:
        """WW_DET_IN falling edge: ``timer / 100`` ms; within 10 ms of the last: dropped."""
        if not self.recording or len(self.detections_ms) >= sww.MAX_DETECTIONS:
            return
        ms = self._ticks(t_us) // 100
        if self.detections_ms and ms - self.detections_ms[-1] < sww.DETECTION_HOLDOFF_MS:
            return
        self.detections_ms.append(ms)

    def _cmd_record_detections(self, _args: str) -> list[str | Delay]:
        self._origin_us = self.dut.clock.now_us()
        self.detections_ms.clear()
        self.duty_starts.clear()
        self.duty_stops.clear()
        self.recording = True
        return [sww.RECORDING, p.MSG_READY]

    def _cmd_print_detections(self, _args: str) -> list[str | Delay]:
        return list(sww.format_detections(self.detections_ms))

    def _cmd_print_dutycycle(self, _args: str) -> list[str | Delay]:
        return list(sww.format_dutycycle(self.duty_starts, self.duty_stops))

    def _cmd_ls(self, _args: str) -> list[str | Delay]:
        names = sorted(f.name for f in self.sd_card.iterdir()) if self.sd_card else []
        return [*names, p.MSG_READY]

    def _cmd_play(self, args: str) -> list[str | Delay]:
        """Stream channel 0 of ``args`` to the DUT in 512-sample blocks on its clock."""
        out: list[str | Delay] = [sww.PLAY_ATTEMPT.format(file=args)]
        try:
            blocks = self._read_sd(args)
        except (DatasetError, ValueError, OSError, EOFError, wave.Error) as exc:
            self.play_errors.append(f"{args}: {exc}")
            return [*out, sww.PLAY_ERROR, p.MSG_READY]
        clock = self.dut.clock
        idle = getattr(clock, "idle", clock.advance)
        t0 = clock.now_us()
        wall0 = time.monotonic()
        for k, block in enumerate(blocks):
            if self.realtime:  # the I2S clock: one block every 32 ms of wall time
                delay = wall0 + (k + 1) * sww.BLOCK_US * 1e-6 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            with self.lock:
                due = t0 + (k + 1) * sww.BLOCK_US
                now = clock.now_us()
                if due > now:
                    idle(due - now)
                self.dut.audio_block(block)  # type: ignore[attr-defined]
            for hook in self.after_dut:
                hook()
        self.played.append(args)
        return [*out, sww.PLAY_OK, p.MSG_READY]

    def _read_sd(self, name: str) -> list[Any]:
        """The file's 512-sample channel-0 blocks; 2-channel 16 kHz 16-bit PCM only."""
        if self.sd_card is None:
            raise ValueError("no SD card folder")
        path = self.sd_card / name
        if Path(name).name != name or not path.is_file():
            raise ValueError(f"no file {name!r} on the SD card")
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 2:
                raise ValueError(f"{w.getnchannels()} channel(s); the player needs 2")
        return read_blocks(path)

    def _cmd_dut(self, args: str) -> list[str | Delay]:
        out: list[str | Delay] = [p.passthrough_ack(args), p.MSG_READY]
        with self.lock:
            self._wire(len(args) + 1)  # the command reaches the DUT
            responses = self.dut.feed_responses(args.encode("latin-1") + p.COMMAND_END)
            self._wire(sum(len(line) + 2 for r in responses for line in r.lines))
        for hook in self.after_dut:
            hook()
        for response in responses:
            for event in response.events:
                out.append(event if isinstance(event, Delay) else p.DUT_PREFIX + event)
        return out


class LegacyBoardCore(BoardCore):
    """The legacy Arduino IO manager: EEMBC command list, timestamp timer, no setbaud."""

    kind = ib.LEGACY
    # longest first where one name is a prefix of another (``tp`` / ``tm`` are distinct)
    COMMANDS = ("help", "name", "res", "enable-timer", "disable-timer", "dut",
                "i2c-enable", "i2c-disable", "load-vdata", "show-vdata", "et", "tm", "tp",
                "version")

    def __init__(self, dut: VirtualDut, **kwargs: Any):
        super().__init__(dut, **kwargs)
        self.timer_enabled = False
        self.edge_mode: str | None = None  # FALLING or CHANGE after ``tm``

    def execute(self, text: str) -> Response | None:
        response = super().execute(text)
        if response is not None and response.verb == "":  # not one of ours
            token = text.split(" ", 1)[0]
            return Response(text, "", [p.msg_unknown_command(token), p.MSG_READY])
        return response

    def _cmd_name(self, _args: str) -> list[str | Delay]:
        return [LEGACY_NAME, p.MSG_READY]

    def _cmd_version(self, _args: str) -> list[str | Delay]:
        return [LEGACY_VERSION, p.MSG_READY]

    def _cmd_tm(self, args: str) -> list[str | Delay]:
        if args.strip() not in ("0", "1"):
            return [p.msg_error("tm needs 0 (falling) or 1 (change)"), p.MSG_READY]
        self.edge_mode = "FALLING" if args.strip() == "0" else "CHANGE"
        self.timer_enabled = False
        return [ib.LEGACY_TM_PREFIX + self.edge_mode, ib.LEGACY_TIMER_OFF_AFTER_TM,
                p.MSG_READY]

    def _cmd_enable_timer(self, _args: str) -> list[str | Delay]:
        self.timer_enabled = True
        return [ib.LEGACY_TIMER_ENABLED, p.MSG_READY]

    def _cmd_disable_timer(self, _args: str) -> list[str | Delay]:
        self.timer_enabled = False
        return [ib.LEGACY_TIMER_DISABLED, p.MSG_READY]


def make_board(kind: str, dut: VirtualDut, **kwargs: Any) -> BoardCore:
    """The fake board of ``kind`` (``enhanced`` or ``legacy``)."""
    cores: dict[str, type[BoardCore]] = {ib.ENHANCED: BoardCore, ib.LEGACY: LegacyBoardCore}
    if kind not in cores:
        raise ValueError(f"board kind {kind!r}: one of {', '.join(cores)}")
    return cores[kind](dut, **kwargs)
