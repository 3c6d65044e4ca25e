"""A fake STM32H573I-DK interface board: the board's command set around a ``VirtualDut``.

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
is far slower than the monitor's stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from harness import protocol as p

from .core import Delay, Response, VirtualDut

BOARD_NAME = "tinyML Enhanced Interface Board"
DEFAULT_DUT_BAUD = 9600
_COMMANDS = ("dut", "name", "ls", "play", "setbaud", "checkbaud", "record_detections",
             "print_detections", "print_dutycycle")


class BoardCore:
    """The interface board's protocol state machine, forwarding ``dut`` to ``dut``."""

    def __init__(self, dut: VirtualDut, *, lock: Any = None,
                 after_dut: list[Callable[[], None]] | None = None,
                 dut_baud: int = DEFAULT_DUT_BAUD):
        self.dut = dut
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.after_dut = list(after_dut or [])
        self.dut_baud = dut_baud
        self.resets = 0
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
        match = next((c for c in _COMMANDS if text.startswith(c)), None)
        if match is None:
            return Response(text, "", [p.MSG_READY])
        rest = text[len(match):]
        if rest and not (rest.startswith(" ") and len(rest) > 1):
            return None  # 'names', 'dut ': prefix of a command but neither form
        args = rest[1:]
        return Response(text, match, getattr(self, f"_cmd_{match}", self._cmd_other)(args))

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

    def _cmd_dut(self, args: str) -> list[str | Delay]:
        out: list[str | Delay] = [p.passthrough_ack(args), p.MSG_READY]
        with self.lock:
            responses = self.dut.feed_responses(args.encode("latin-1") + p.COMMAND_END)
        for hook in self.after_dut:
            hook()
        for response in responses:
            for event in response.events:
                out.append(event if isinstance(event, Delay) else p.DUT_PREFIX + event)
        return out
