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
from collections.abc import Callable
from typing import Any

from tinyperf.formats import board_protocol as ib
from tinyperf.formats import protocol as p

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
                 dut_baud: int = DEFAULT_DUT_BAUD, dut_wire_time: bool = False):
        self.dut = dut
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
