"""The virtual DUT as a pure protocol state machine (no I/O, no threads, no sleeping).

Owns the behaviour of the standard MLPerf Tiny firmware library (protocol spec 1.2–1.5,
``ee_serial_callback`` / ``ee_serial_command_parser_callback`` / ``ee_buffer_parse`` /
``ee_infer``) over bytes in and text lines out. Every line comes from the formatters in
``tinyperf.formats.protocol`` so the DUT and the host cannot drift apart.

Deliberate differences from the reference firmware (spec 8, "firmware defects to avoid"):

- ``db load N`` with N > ``MAX_DB_INPUT_SIZE`` prints the reference's warning text, but the
  expected size is then *clamped* to the capacity: data beyond it is ignored and
  ``m-load-done`` fires at the capacity, instead of overflowing the buffer. Negative N is
  rejected with the ">0 bytes" error instead of being cast to a huge ``size_t``. All lines,
  the warning included, end with ``\\r\\n`` (the reference ends the warning with ``\\n``,
  which glues it to the next line behind an interface board).
- Hex data after the N-th byte is ignored, also after ``m-load-done``.
- An empty command (bare ``%``) answers ``m-ready`` instead of dereferencing NULL.
- ``results`` before any ``infer`` prints an empty ``m-results-[]`` (a board would print
  whatever its output tensor holds).

The timed ``infer N`` iterations and the W warm-ups are simulated on the DUT clock: the real
model runs *once* per ``infer`` on the loaded input (the result of N identical inferences on
the same input is the same), and the clock advances by the latency model's total for N, so
the two ``m-lap-us`` lines differ by exactly that total.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tinyperf.formats import protocol as p
from tinyperf.formats.errors import ModelError

from .clock import LatencyModel, SimClock
from .fast_load import FastLoadPort

InferFn = Callable[[bytes], Sequence[float]]
TimestampCallback = Callable[[int], None]

DEFAULT_MAX_DB_INPUT_SIZE = 96 * 96 * 3  # firmware default when a port does not set it
DEFAULT_WARMUPS = 10
DEFAULT_ITERATIONS = 1
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
#: How many DUT timestamps the core remembers (tests, energy windows); bounded on purpose.
_TIMESTAMP_HISTORY = 64




@dataclass(frozen=True)
class DutConfig:
    """What a firmware build fixes at compile time (``TH_*`` / ``MAX_DB_INPUT_SIZE`` / mode)."""

    model_id: str = "kws01"
    vendor: str = p.DEFAULT_VENDOR
    firmware: str = p.FIRMWARE_PROFILE
    max_db_input_size: int = DEFAULT_MAX_DB_INPUT_SIZE
    #: Bytes ``th_load_tensor`` copies into the model input (kws01 490, ad01 2560).
    input_bytes: int = 490
    results_decimals: int = 3
    #: A comma after every value, the last too (the reference vww01 port, ic_vww spec 3.1).
    results_trailing_comma: bool = False
    #: Energy build: timestamps are GPIO pulses (callback), no ``m-lap-us`` lines.
    energy: bool = False
    cmd_size: int = p.EE_CMD_SIZE
    #: tinyperf's ``fl`` fast-load commands (docs/fast_load.md); False: the standard firmware.
    fast_load: bool = True


@dataclass(frozen=True)
class Delay:
    """Simulated DUT busy time inside a response (the server may sleep a fraction of it)."""

    us: int


@dataclass
class Response:
    """Everything one command produced: its text, its first token, lines and delays in order."""

    command: str
    verb: str
    events: list[str | Delay] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [e for e in self.events if isinstance(e, str)]


def c_atoi(text: str) -> int:
    """C ``atoi``: optional sign and leading digits, 0 when there are none."""
    s = text.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    digits = ""
    for ch in s:
        if not ch.isdigit() or not ch.isascii():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def constant_results(values: Sequence[float]) -> InferFn:
    """An ``infer_fn`` that ignores its input (protocol tests without a model)."""
    fixed = [float(v) for v in values]
    return lambda _raw: list(fixed)


class VirtualDut:
    """The standard firmware's command parser, buffer loader and infer loop.

    Feed it the bytes the host sends; it returns the lines the DUT prints (without line
    terminators). Nothing is accepted before :meth:`boot`, like the firmware whose parser is
    enabled only just before its first ``m-ready``.
    """

    def __init__(
        self,
        config: DutConfig | None = None,
        infer_fn: InferFn | None = None,
        *,
        latency: LatencyModel | None = None,
        clock: SimClock | None = None,
        on_timestamp: TimestampCallback | None = None,
    ) -> None:
        self.config = config or DutConfig()
        self.infer_fn: InferFn = infer_fn or constant_results([])
        self.latency = latency or LatencyModel()
        self.clock = clock or SimClock()
        self.on_timestamp = on_timestamp
        self.booted = False
        self._cmd = bytearray()
        self._buffer = bytearray(self.config.max_db_input_size)
        self._expected = 0
        self._pos = 0
        self._tensor = bytearray(self.config.input_bytes)
        self.last_results: list[float] | None = None
        #: DUT µs of the last timed region (between the two timestamps).
        self.last_timed_us: int | None = None
        self.timestamps: deque[int] = deque(maxlen=_TIMESTAMP_HISTORY)
        #: the ``fl`` commands (fast_load.py); None: answered as unknown, like the reference
        self.fast: FastLoadPort | None = FastLoadPort(self) if self.config.fast_load else None

    # -- state -------------------------------------------------------------------------

    @property
    def loaded(self) -> bytes:
        """The bytes written by ``db`` since the last ``db load``."""
        return bytes(self._buffer[: self._pos])

    @property
    def expected_size(self) -> int:
        return self._expected

    @property
    def loaded_size(self) -> int:
        """N when a whole input is loaded (``db`` reached ``db load N``, or ``fl``), else 0."""
        return self._expected if self._pos == self._expected else 0

    @property
    def input_buffer(self) -> bytearray:
        return self._buffer

    def set_loaded(self, size: int) -> None:
        """``fl``: the buffer's first ``size`` bytes are the input (0: none)."""
        self._expected = self._pos = size

    # -- boot ----------------------------------------------------------------------------

    def boot(self) -> list[str]:
        """Power-on: clear all state, return the banner (spec 1.2), enable the parser."""
        self._cmd.clear()
        self._buffer = bytearray(self.config.max_db_input_size)
        self._tensor = bytearray(self.config.input_bytes)
        self._expected = self._pos = 0
        self.last_results = None
        if self.fast is not None:
            self.fast.reset()
        lines = [p.msg_timestamp_mode(self.config.energy)]
        lines += self._timestamp()
        lines += [p.MSG_INIT_DONE, p.MSG_READY]
        self.booted = True
        return lines

    reset = boot

    # -- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[str]:
        """Process received bytes; return every line printed in response, in order."""
        return [line for r in self.feed_responses(data) for line in r.lines]

    def feed_responses(self, data: bytes) -> list[Response]:
        """Like :meth:`feed`, grouped per completed command (with simulated delays)."""
        if not self.booted:
            return []  # parser not enabled yet: input is dropped
        responses = []
        i = 0
        while i < len(data):
            if self.receiving:  # an ``fl`` block: raw bytes, never parsed as commands
                assert self.fast is not None and self.fast.block is not None
                take = data[i : i + self.fast.block.remaining]
                i += len(take)
                done = self.fast.receive(take)
                if done is not None:
                    responses.append(done)
                continue
            end = data.find(p.COMMAND_END, i)
            stop = len(data) if end < 0 else end
            # the write position saturates at EE_CMD_SIZE: later chars are dropped
            room = self.config.cmd_size - len(self._cmd)
            self._cmd += data[i : min(stop, i + max(room, 0))]
            i = stop + 1
            if end >= 0:
                text = self._cmd.decode("latin-1")
                self._cmd.clear()
                response = self.execute(text)
                if not self.receiving:
                    responses.append(response)
        return responses

    @property
    def receiving(self) -> bool:
        """Inside an ``fl`` block: the next bytes are data."""
        return self.fast is not None and self.fast.block is not None

    def receive_timeout(self) -> Response:
        """The server saw no data byte for ``fast.timeout_us``: end the block (error)."""
        assert self.fast is not None
        return self.fast.expire()

    def execute(self, text: str) -> Response:
        """Run one complete command (without ``%``); always ends with ``m-ready``."""
        tokens = [t for t in text.split(" ") if t]  # strtok(" ") collapses repeated spaces
        verb = tokens[0] if tokens else ""
        response = Response(text, verb)
        handler = self._HANDLERS.get(verb)
        if handler is not None:
            handler(self, tokens[1:], response.events)
            if self.receiving:  # ``fl load``/``fl shift``: the reply follows the data
                assert self.fast is not None and self.fast.block is not None
                self.fast.block.response = response
                return response
        elif verb:
            response.events.append(p.msg_unknown_command(verb))
        response.events.append(p.MSG_READY)
        return response

    # -- commands ------------------------------------------------------------------------

    def _cmd_name(self, _args: list[str], out: list[str | Delay]) -> None:
        out.append(p.msg_name(self.config.vendor))

    def _cmd_profile(self, _args: list[str], out: list[str | Delay]) -> None:
        out.append(p.msg_profile(self.config.firmware))
        out.append(p.msg_model(self.config.model_id))

    def _cmd_help(self, _args: list[str], out: list[str | Delay]) -> None:
        out.append(self.config.firmware)
        out.append("")
        out.extend(p.HELP_LINES)

    def _cmd_timestamp(self, _args: list[str], out: list[str | Delay]) -> None:
        out.extend(self._timestamp())

    def _cmd_results(self, _args: list[str], out: list[str | Delay]) -> None:
        out.append(p.msg_results(self.last_results or [], self.config.results_decimals,
                                 self.config.results_trailing_comma))

    def _cmd_db(self, args: list[str], out: list[str | Delay]) -> None:
        if not args:
            out.append(p.msg_error(p.ERR_DB_NEEDS_SUBCOMMAND))
        elif args[0] == "load":
            self._db_load(args[1:], out)
        elif args[0] == "print":
            self._db_print(out)
        else:
            self._db_hex(args[0], out)

    def _db_load(self, args: list[str], out: list[str | Delay]) -> None:
        if not args:
            out.append(p.msg_error(p.ERR_DB_LOAD_NEEDS_SIZE))
            return
        size = c_atoi(args[0])
        if size <= 0:
            out.append(p.msg_error(p.ERR_DB_LOAD_POSITIVE))
            return
        self._pos = 0
        capacity = self.config.max_db_input_size
        if size > capacity:
            out.append(p.msg_oversize(size, capacity))
            size = capacity  # see module docstring: bounded instead of overflowing
        else:
            out.append(p.msg_expecting(size))
        self._expected = size

    def _db_hex(self, digits: str, out: list[str | Delay]) -> None:
        if len(digits) % 2:
            out.append(p.msg_error(p.ERR_HEX_ODD))
            return
        for i in range(0, len(digits), 2):
            pair = digits[i : i + 2]
            if not all(c in _HEX_DIGITS for c in pair):
                out.append(p.msg_invalid_hex(pair))  # bytes before the bad pair stay loaded
                return
            if self._pos >= self._expected:
                continue  # past N: ignored (the reference keeps writing past the end)
            self._buffer[self._pos] = int(pair, 16)
            self._pos += 1
            if self._pos == self._expected:
                out.append(p.MSG_LOAD_DONE)

    def _db_print(self, out: list[str | Delay]) -> None:
        size = self._expected
        for start in range(0, size, 8):
            out.append(p.msg_buffer(bytes(self._buffer[start : min(start + 8, size)])))
        if size % 8:
            out.append("")  # the reference's trailing empty line after a partial last row

    def _cmd_infer(self, args: list[str], out: list[str | Delay]) -> None:
        iterations = c_atoi(args[0]) if args else DEFAULT_ITERATIONS
        warmups = c_atoi(args[1]) if len(args) > 1 else DEFAULT_WARMUPS
        if iterations <= 0:
            out.append(p.msg_error(p.ERR_INFER_ITERATIONS))
            return
        if warmups < 0:
            out.append(p.msg_error(p.ERR_INFER_WARMUP))
            return
        out.extend(self._load_tensor())
        try:
            results = [float(v) for v in self.infer_fn(bytes(self._tensor))]
        except ModelError as exc:
            out.append(p.msg_error(str(exc)))
            return
        out.append(p.msg_warmup_start(warmups))
        out.append(self._busy(self.latency.total_us(warmups)))
        out.append(p.MSG_WARMUP_DONE)
        out.append(p.msg_infer_start(iterations))
        first = self._timestamp()
        start = self.timestamps[-1]
        timed = self.latency.total_us(iterations)
        out.extend(first)
        out.append(self._busy(timed))
        out.extend(self._timestamp(at=start + timed))
        self.last_timed_us = timed
        out.append(p.MSG_INFER_DONE)
        self.last_results = results
        out.append(p.msg_results(results, self.config.results_decimals,
                                 self.config.results_trailing_comma))

    def _cmd_fl(self, args: list[str], out: list[str | Delay]) -> None:
        if self.fast is None:
            out.append(p.msg_unknown_command("fl"))
        else:
            self.fast.command(args, out)

    _HANDLERS: dict[str, Callable[[VirtualDut, list[str], list[str | Delay]], None]] = {
        "name": _cmd_name,
        "profile": _cmd_profile,
        "help": _cmd_help,
        "timestamp": _cmd_timestamp,
        "db": _cmd_db,
        "infer": _cmd_infer,
        "results": _cmd_results,
        "fl": _cmd_fl,
    }

    # -- helpers -------------------------------------------------------------------------

    def _load_tensor(self) -> list[str]:
        # th_load_tensor: copy min(input size, loaded) bytes; the rest keeps old contents.
        n = min(self._pos, len(self._tensor))
        self._tensor[:n] = self._buffer[:n]
        if self._pos < len(self._tensor):
            return [p.msg_input_size_mismatch(self._pos, len(self._tensor))]
        return []

    def _busy(self, us: int) -> Delay:
        self.clock.advance(us)
        return Delay(us)

    def _timestamp(self, at: int | None = None) -> list[str]:
        """th_timestamp: a lap line (performance) or a GPIO pulse callback (energy)."""
        now = self.clock.now_us() if at is None else at
        self.timestamps.append(now)
        if self.config.energy:
            if self.on_timestamp is not None:
                self.on_timestamp(now)
            return []
        return [p.msg_lap_us(now)]
