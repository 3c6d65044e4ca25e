"""The DUT client: identify, load an input, run ``infer N W``, read the results.

Built on any ``LineLink``. Every exchange is one command and the lines up to the exact
line ``m-ready``; every read has a deadline; every failure is a typed exception carrying
the offending line. Stale input is drained before each command, so boot bytes or a late
line cannot leak into the next answer (a defect of the reference reader).
"""

from __future__ import annotations

import functools
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tinyperf.formats import protocol
from tinyperf.formats.errors import DutErrorReply, DutProtocolError, DutTimeout
from tinyperf.formats.protocol import Kind, Message
from tinyperf.harness.link import plausibility
from tinyperf.harness.link.fast_load import FastLoader, FastLoadWithdrawn
from tinyperf.harness.link.timeouts import Deadline
from tinyperf.harness.link.transport import LineLink

LAP_MODULUS = 1 << 32  # m-lap-us is a 32-bit %lu counter on most MCUs
HISTORY = 25  # windows remembered for the plausibility checks
#: ``name`` requests of one absorbing barrier (stray fast-load bytes; see ``barrier``)
_ABSORB_ASKS = 4
#: most answer lines repeat verbatim (``m-warmup-done``, ``m-infer-start-1``, ...): each is
#: classified once (a Message is immutable); on the host's critical path between commands
_parse_line = functools.lru_cache(maxsize=256)(protocol.parse_line)


class DutResetError(DutProtocolError):
    """The DUT printed its boot banner in the middle of a command: it reset."""


class ImplausibleWindow(DutProtocolError):
    """A well-formed ``infer`` reply whose timing contradicts the host's witnesses."""

    def __init__(self, command: str, reason: str, lines: Sequence[str]):
        super().__init__(f"{command!r}: {reason}", line=" | ".join(lines))
        self.command = command
        self.reason = reason


class ResultsMismatch(DutProtocolError):
    """``results`` re-printed something else than ``infer`` printed: a damaged line."""


class DutFrozen(DutTimeout):
    """An ``infer`` reply stopped coming: the DUT froze (or is far slower than it showed).

    Carries the deadline and how it was computed (``basis``); the runner adds the session
    folder (``with_session``) so the message says how to resume.
    """

    def __init__(self, command: str, waited_s: float, lines: Sequence[str], basis: str,
                 session: str | None = None):
        super().__init__(command, waited_s, lines)
        self.basis = basis
        self.session = session
        last = repr(self.lines[-1]) if self.lines else "(none)"
        text = (f"the DUT stopped answering {command!r}: no 'm-ready' within the deadline "
                f"of {waited_s:.1f} s ({basis}); last line received: {last}")
        if session is not None:
            text += f"; session {session}: resume with `tinyperf run --resume {session}`"
        text += "; give --infer-timeout SECONDS to wait longer"
        self.args = (text,)

    def with_session(self, session: str) -> DutFrozen:
        return DutFrozen(self.command, self.waited_s, self.lines, self.basis, session)


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for ``m-ready`` per kind of command.

    ``infer`` is an explicit override for every ``infer N W`` (``--infer-timeout``); when
    None the deadline comes from what the DUT has shown: once a per-inference time ``t``
    is known, ``max(factor * (N+W) * t, (N+W) * t + floor)``; before that, the bounded
    first contact ``first_contact + (N+W) * first_per_inference``.
    """

    command: float = 5.0
    infer: float | None = None
    first_contact: float = 20.0
    first_per_inference: float = 1.0  # no MLPerf Tiny model takes 1 s per inference
    factor: float = 2.0
    floor: float = 5.0
    #: after a missed reply: how long a DUT may stay busy before it answers a resync ``name``
    stall: float = 15.0


@dataclass(frozen=True)
class Identity:
    """What the DUT says about itself (``name`` and ``profile``)."""

    vendor: str | None
    firmware: str | None
    model: str | None


@dataclass(frozen=True)
class Response:
    """The body of one command's answer (the lines before ``m-ready``)."""

    command: str
    messages: tuple[Message, ...]
    stale: tuple[str, ...] = ()
    arrivals: tuple[float, ...] = ()  # host monotonic time each message arrived


    def of(self, kind: Kind) -> list[Message]:
        return [m for m in self.messages if m.kind is kind]

    @property
    def lines(self) -> list[str]:
        return [m.text for m in self.messages]


@dataclass(frozen=True)
class InferResult:
    """One ``infer N W`` window as measured by the DUT."""

    iterations: int
    warmups: int
    results: tuple[float, ...]
    results_count: int
    start_us: int | None = None
    end_us: int | None = None
    host_elapsed_s: float | None = None  # host time between the two lap lines
    lines: tuple[str, ...] = field(default=(), repr=False)
    #: whole counter periods the host's clock shows the window lasted beyond the laps
    wraps: int = 0

    @property
    def elapsed_us(self) -> int | None:
        """DUT time of the timed part, across the 32-bit wraps of the counter."""
        if self.start_us is None or self.end_us is None:
            return None
        return (self.end_us - self.start_us) % LAP_MODULUS + self.wraps * LAP_MODULUS


#: ``event(name, details)`` hook for the session log (stale input, retries, resets).
EventHook = Callable[[str, str], None]


class Dut:
    """MLPerf Tiny DUT client over a line link.

    ``chunk_size`` is the number of bytes per ``db`` command; by default the largest the
    80-character command buffer takes (38). ``timestamps`` is False for energy builds,
    whose timestamps are GPIO pulses instead of ``m-lap-us`` lines. ``cmd_buffer`` is the
    firmware's command buffer size (``EE_CMD_SIZE``); no command longer than it is sent.
    ``fast_load``: ask the DUT for the ``fl`` commands (docs/fast_load.md, ``fast_load.py``)
    and use them where offered; False: the standard protocol only, never an ``fl`` byte.
    """

    def __init__(self, link: LineLink, *, timeouts: Timeouts | None = None,
                 cmd_buffer: int = protocol.EE_CMD_SIZE, chunk_size: int | None = None,
                 timestamps: bool = True,
                 identify_attempts: int = 3, load_attempts: int = 2,
                 on_event: EventHook | None = None, fast_load: bool = False):
        self.link = link
        self.timeouts = timeouts or Timeouts()
        self.cmd_buffer = cmd_buffer
        self.chunk_size = chunk_size or protocol.db_chunk_size(cmd_buffer)
        if 3 + 2 * self.chunk_size > cmd_buffer:
            raise ValueError(f"{self.chunk_size}-byte db chunks do not fit a {cmd_buffer}-char "
                             "command buffer")
        self.timestamps = timestamps
        self.identify_attempts = identify_attempts
        self.load_attempts = load_attempts
        self._on_event = on_event
        #: DUT/host clock ratios of earlier windows long enough for the host to witness
        self.clock_ratios: deque[float] = deque(maxlen=HISTORY)
        #: per-inference times (DUT clock) of the latest accepted windows
        self.window_speeds: deque[float] = deque(maxlen=HISTORY)
        #: longest per-inference time seen (DUT laps and host clock), seconds; None: unknown
        self.per_inference_s: float | None = None
        self.log = logging.getLogger(f"{__name__}.Dut[{link.url}]")
        self.fast: FastLoader | None = FastLoader(self) if fast_load else None
        #: command -> why each identification attempt failed: the exception, or a text for
        #: an answer without the expected line (see ``_retry``)
        self.identify_failures: dict[str, list[Exception | str]] = {}
        #: the input the caller last loaded: what every ``infer`` must run on
        self._input: bytes | None = None

    def _event(self, name: str, details: str) -> None:
        self.log.info("%s: %s", name, details)
        if self._on_event is not None:
            self._on_event(name, details)

    event = _event

    def write(self, data: bytes) -> None:
        """Raw bytes to the DUT (``fl`` blocks); stale input is dropped first unless a
        reply is still owed."""
        if self.fast is None or self.fast.pending is None:
            stale = tuple(self.link.discard_input())
            if stale:
                self._event("stale-input", f"dropped before a fast-load block: {list(stale)!r}")
        self.link.write(data)

    def _reset_seen(self) -> None:
        if self.fast is not None:
            self.fast.on_reset()

    # -- one exchange ------------------------------------------------------------------------

    def command(self, text: str, timeout: float | None = None,
                ahead: tuple[bytes, int | None] | None = None) -> Response:
        """Send ``text%`` and collect the body up to ``m-ready``.

        Raises ``DutTimeout`` if ``m-ready`` does not come in time, ``DutResetError`` if a
        boot banner shows up, ``DutErrorReply`` on an ``e-[...]`` line (after ``m-ready``,
        so the link stays in step).

        Fast load: a block whose reply is still owed is settled first (``text`` written
        behind it when the DUT's RX buffer takes both); ``ahead`` = (input, stride) is
        written as the next block right behind ``text`` when it fits, its reply read later.
        """
        frame = protocol.command(text, self.cmd_buffer)
        fast = self.fast
        stale: tuple[str, ...] = ()
        before = len(fast.queue) if fast is not None else 0
        if fast is not None and before and not fast.room(fast.owed_bytes, len(frame)):
            while fast.queue:
                self._settle()
            before = 0
        if not before:
            stale = tuple(self.link.discard_input())
            if stale:
                self._event("stale-input", f"dropped before {text!r}: {list(stale)!r}")
        self.link.write(frame)
        if ahead is not None and fast is not None and fast.caps is not None \
                and fast.write_ahead(ahead[0], ahead[1], fast.owed_bytes + len(frame)):
            ahead = None
        clean = True
        for _ in range(before):  # the blocks written before text: their replies come first
            if fast is None or fast.pending is None:
                break  # a failure dropped the chain
            clean = self._settle() and clean
        if not clean:  # a retry's barrier took text's reply (and any block behind it)
            self.link.write(frame)
        elif ahead is not None and fast is not None and fast.caps is not None and before:
            # it did not fit behind the blocks before text: now only text is owed
            fast.write_ahead(ahead[0], ahead[1], len(frame))
        seconds = self.timeouts.command if timeout is None else timeout
        try:
            messages, arrivals = self._collect(text, seconds)
        except BaseException:
            if fast is not None and fast.pending is not None:
                fast.drop_pending()  # its reply would be taken for another one
            raise
        errors = [m.text for m in messages if m.kind is Kind.ERROR]
        if errors:
            raise DutErrorReply(text, errors[0])
        return Response(text, tuple(messages), stale, tuple(arrivals))

    def _settle(self) -> bool:
        """Read the reply of the block written ahead (see ``FastLoader.settle``)."""
        assert self.fast is not None and self.fast.pending is not None
        data = self.fast.pending.data
        try:
            return self.fast.settle()
        except FastLoadWithdrawn:  # rebooted into a firmware without it
            self._load_standard(data)
            return False

    def _collect(self, text: str, seconds: float) -> tuple[list[Message], list[float]]:
        """The messages up to ``m-ready`` and when each arrived (see ``command``)."""
        deadline = Deadline(seconds)
        messages: list[Message] = []
        arrivals: list[float] = []
        readline = self.link.readline
        while True:
            line = readline(deadline)
            if line is None:
                raise DutTimeout(text, seconds, [m.text for m in messages])
            if line == protocol.READY:  # what parse_line makes Kind.READY, without a regex
                return messages, arrivals
            arrived = time.monotonic()
            message = _parse_line(line)
            if message.kind in (Kind.TIMESTAMP_MODE, Kind.INIT_DONE):
                self._reset_seen()
                self.resync()
                raise DutResetError("DUT reset during the command", line=line,
                                    expected=f"the answer to {text!r}")
            messages.append(message)
            arrivals.append(arrived)

    def collect(self, text: str, seconds: float) -> list[str]:
        """The lines before ``m-ready`` of a reply to ``text`` (errors included)."""
        return [m.text for m in self._collect(text, seconds)[0]]

    def resync(self, quiet_s: float = 0.25, limit_s: float = 3.0) -> list[str]:
        """Read until the line has been silent for ``quiet_s`` (at most ``limit_s``).

        After a reset or a timeout, the rest of a banner and a late answer to the
        interrupted command may still be on their way; they must not be taken for the
        answer to the next command (which would leave the client one answer behind).
        """
        dropped: list[str] = []
        overall = Deadline(limit_s)
        while not overall.expired:
            line = self.link.readline(Deadline(min(quiet_s, overall.remaining)))
            if line is None:
                break
            dropped.append(line)
        if dropped:
            self._event("resync", f"dropped {dropped!r}")
        return dropped

    # -- identification ------------------------------------------------------------------------

    def _retry(self, what: str, attempt_fn: Callable[[], str | None]) -> str | None:
        failures: list[Exception | str] = []
        for attempt in range(1, self.identify_attempts + 1):
            try:
                value = attempt_fn()
            except (DutTimeout, DutProtocolError, DutErrorReply) as exc:
                # an error reply here usually means a half-sent command from a killed host
                # was still in the DUT's buffer; the retry starts from a clean buffer
                value = None
                failures.append(exc)
                self._event("retry", f"{what} attempt {attempt} failed: {exc}")
                if isinstance(exc, DutTimeout):
                    self.resync()
            else:
                if value is None:
                    failures.append("answered without the expected line")
            if value is not None:
                return value
            if attempt < self.identify_attempts:
                self._event("retry", f"Retrying {what} ({attempt}/{self.identify_attempts})")
        # why identification failed, for the caller's error (a frozen DUT is not a DUT that
        # answers without a model id)
        self.identify_failures[what] = failures
        return None

    def name(self) -> str | None:
        """Vendor string from ``m-name-dut-[...]``; ``None`` after the bounded retries."""
        def attempt() -> str | None:
            found = self.command("name").of(Kind.NAME)
            return str(found[0].value) if found else None
        return self._retry("name", attempt)

    def profile(self) -> tuple[str | None, str | None]:
        """Firmware profile and model id from ``profile``."""
        result: dict[str, str] = {}

        def attempt() -> str | None:
            response = self.command("profile")
            models = response.of(Kind.MODEL)
            profiles = response.of(Kind.PROFILE)
            if not models:
                return None
            result["firmware"] = str(profiles[0].value) if profiles else ""
            return str(models[0].value)

        model = self._retry("profile", attempt)
        return result.get("firmware"), model

    def identify(self) -> Identity:
        vendor = self.name()
        firmware, model = self.profile()
        return Identity(vendor, firmware, model)

    # -- loading ---------------------------------------------------------------------------------

    def load(self, data: bytes, stride: int | None = None) -> None:
        """Load ``data`` into the DUT's input buffer, checking every reply.

        With fast load offered: one ``fl`` block (an ``fl shift`` of ``stride`` new bytes
        when the DUT holds the previous window), whose reply the next command reads (it is
        written behind the block); a block that stays bad raises ``FastLoadError``.
        Otherwise the standard way:

        ``db load N`` resets the DUT's write position, so restarting a failed load from
        the beginning is idempotent; it is retried up to ``load_attempts`` times. After a
        missed reply the link is re-synchronised with a ``name`` barrier first, so a late
        answer is never read as the answer to the restarted load. If every attempt fails,
        the first failure (the cause, e.g. the stall) is raised, not the last symptom.
        """
        if not data:
            raise ValueError("cannot load an empty input")
        self._input = data
        if self.fast is not None and self.fast.usable_for(len(data)):
            try:
                self.fast.start(data, stride)
                return
            except FastLoadWithdrawn:
                pass
        self._load_standard(data)

    def _load_standard(self, data: bytes) -> None:
        if self.fast is not None:
            self.fast.stats.standard_loads += 1
            self.fast.buffer = None
        first: Exception | None = None
        for attempt in range(1, self.load_attempts + 1):
            try:
                self._load_once(data)
                if self.fast is not None:
                    self.fast.buffer = data
                return
            except (DutTimeout, DutProtocolError, DutErrorReply) as exc:
                first = first or exc
                if attempt == self.load_attempts:
                    if exc is first:
                        raise
                    raise first from exc
                self._event("retry", f"load of {len(data)} bytes failed ({exc}); restarting")
                if isinstance(exc, DutTimeout):
                    self.barrier()

    def barrier(self, limit_s: float | None = None, absorb: bool = False) -> list[str]:
        """After a missed reply: send ``name`` and drop every line up to its answer.

        A stalled DUT may answer the stalled command late (``m-ready`` included); only the
        ``m-name`` line followed by ``m-ready`` proves the link is in step again. Waits at
        most ``limit_s`` (default ``timeouts.stall``) seconds; no answer means the DUT is
        stuck, a ``DutTimeout``.

        ``absorb`` (after a failed fast-load block): stray data bytes may sit in front of
        ``name`` and make it an unknown command; an ``m-ready`` without ``m-name`` then
        means: wait for the line to be quiet and ask again (a bounded number of times).
        """
        limit = self.timeouts.stall if limit_s is None else limit_s
        if self.fast is not None:
            self.fast.drop_pending()
        asks = 1
        self.link.write(protocol.command("name", self.cmd_buffer))
        deadline = Deadline(limit)
        dropped: list[str] = []
        named = resent = False
        while True:
            line = self.link.readline(deadline)
            if line is None:
                raise DutTimeout("name (resync after a missed reply)", limit, dropped)
            message = protocol.parse_line(line)
            if message.kind is Kind.NAME:
                named = True
            elif message.kind is Kind.READY and named:
                break
            elif message.kind is Kind.READY and absorb and asks < _ABSORB_ASKS:
                named = False
                dropped.append(line)
                dropped += self.resync()
                self.link.write(protocol.command("name", self.cmd_buffer))
                asks += 1
            else:
                named = False
                dropped.append(line)
                if message.kind is Kind.INIT_DONE:
                    self._reset_seen()
                if message.kind is Kind.INIT_DONE and not resent:
                    # a reboot drops input sent before its parser is up: ask again
                    self.link.write(protocol.command("name", self.cmd_buffer))
                    resent = True
        if dropped:
            self._event("resync", f"dropped {dropped!r} before the resync name reply")
        return dropped

    def _load_once(self, data: bytes) -> None:
        size = len(data)
        response = self.command(f"db load {size}")
        oversize = response.of(Kind.OVERSIZE)
        if oversize:
            raise DutProtocolError("input larger than the DUT's buffer", line=oversize[0].text)
        expecting = response.of(Kind.EXPECTING)
        if not expecting or expecting[0].value != size:
            raise DutProtocolError("bad answer to db load", line=" | ".join(response.lines),
                                   expected=protocol.msg_expecting(size))
        step = self.chunk_size
        for offset in range(0, size, step):
            chunk = data[offset:offset + step]
            body = self.command("db " + chunk.hex())
            done = bool(body.of(Kind.LOAD_DONE))
            last = offset + step >= size
            if done != last:
                where = f"after {offset + len(chunk)} of {size} bytes"
                raise DutProtocolError(
                    f"m-load-done {'missing' if last else 'too early'} {where}",
                    line=" | ".join(body.lines) or "(no lines)",
                    expected=protocol.MSG_LOAD_DONE if last else "no m-load-done")

    # -- inference -------------------------------------------------------------------------------

    def results(self) -> tuple[float, ...]:
        """``results``: the DUT re-prints the last inference's results (spec 1.3)."""
        found = self.command("results").of(Kind.RESULTS)
        if not found or found[-1].value is None:
            raise DutProtocolError("no m-results in the answer to 'results'",
                                   expected="m-results-[...]")
        return tuple(found[-1].value)  # type: ignore[arg-type]


    def learn(self, per_inference_s: float | None) -> None:
        """Take a per-inference time into account (the longest seen is kept)."""
        if per_inference_s is None or not per_inference_s > 0:
            return
        if self.per_inference_s is None or per_inference_s > self.per_inference_s:
            self.per_inference_s = per_inference_s

    def infer_deadline(self, iterations: int, warmups: int) -> tuple[float, str]:
        """Seconds to wait for ``infer N W`` and how that was computed."""
        t = self.timeouts
        if t.infer is not None:
            return t.infer, "--infer-timeout"
        count = iterations + warmups
        if self.per_inference_s is None:
            seconds = t.first_contact + count * t.first_per_inference
            return seconds, (f"first contact: {t.first_contact:g} s + {count} x "
                             f"{t.first_per_inference:g} s")
        expected = count * self.per_inference_s
        seconds = max(t.factor * expected, expected + t.floor)
        return seconds, (f"{count} inferences x {self.per_inference_s * 1e3:.2f} ms = "
                         f"{expected:.2f} s expected; max({t.factor:g} x, +{t.floor:g} s)")

    def infer(self, iterations: int, warmups: int, timeout: float | None = None,
              ahead: tuple[bytes, int | None] | None = None) -> InferResult:
        """Run ``infer N W`` and parse the window: laps, results, counts.

        The deadline is ``timeout`` if given, else ``infer_deadline``; a miss raises
        ``DutFrozen``. A good reply teaches the per-inference time.

        Fast load: ``ahead`` = (next input, stride) is written behind the command while the
        DUT infers (accuracy runs: no idle wire), and the input last given to ``load`` is
        loaded again first if a failure left the DUT's buffer in doubt.
        """
        if self.fast is not None and self._input is not None \
                and not self.fast.holds(self._input):
            self.load(self._input)
        text = f"infer {iterations} {warmups}"
        protocol.cmd_infer(iterations, warmups)  # validates the numbers before sending
        if timeout is None:
            seconds, basis = self.infer_deadline(iterations, warmups)
        else:
            seconds, basis = timeout, "explicit timeout"
        sent = time.monotonic()
        try:
            response = self.command(text, seconds, ahead=ahead)
        except DutFrozen:
            raise
        except DutTimeout as exc:
            raise DutFrozen(text, seconds, exc.lines, basis) from exc
        wall = time.monotonic() - sent
        starts = response.of(Kind.INFER_START)
        if starts and starts[0].value != iterations:
            raise DutProtocolError("DUT runs a different iteration count",
                                   line=starts[0].text,
                                   expected=protocol.msg_infer_start(iterations))
        lap_msgs = [(m, t) for m, t in zip(response.messages, response.arrivals)
                    if m.kind is Kind.LAP_US]
        laps = [int(m.value) for m, _ in lap_msgs]  # type: ignore[call-overload]
        if self.timestamps and len(laps) != 2:
            raise DutProtocolError(f"expected 2 m-lap-us lines, got {len(laps)}",
                                   line=" | ".join(response.lines))
        results = response.of(Kind.RESULTS)
        if not results:
            raise DutProtocolError("no m-results line", line=" | ".join(response.lines),
                                   expected="m-results-[...]")
        if results[-1].value is None:
            raise DutProtocolError("unparseable m-results", line=results[-1].text)
        host_elapsed = lap_msgs[-1][1] - lap_msgs[0][1] if len(lap_msgs) >= 2 else None
        wraps = 0
        if len(laps) >= 2 and iterations:
            dut_s = ((laps[-1] - laps[0]) % LAP_MODULUS) / 1e6
            ratio = statistics.median(self.clock_ratios) if self.clock_ratios else None
            wraps = plausibility.lap_wraps(dut_s, host_elapsed, ratio)
            dut_s += wraps * plausibility.WRAP_S
            problem = plausibility.window_problem(iterations, dut_s, host_elapsed,
                                                  self.window_speeds, self.clock_ratios)
            if problem:
                raise ImplausibleWindow(text, problem, response.lines)
            if wraps:
                self._event("lap-wrap", f"{text!r}: the host's clock shows the 32-bit lap "
                                        f"counter wrapped {wraps} time(s) more")
            if host_elapsed is not None and host_elapsed >= plausibility.MIN_HOST_S:
                self.clock_ratios.append(dut_s / host_elapsed)
            self.window_speeds.append(dut_s / iterations)
            self.learn(dut_s / iterations)
        if host_elapsed is not None and iterations:
            self.learn(host_elapsed / iterations)
        if len(laps) < 2 and iterations + warmups:
            self.learn(wall / (iterations + warmups))  # no laps (energy): the whole reply
        return InferResult(
            iterations=iterations, warmups=warmups,
            results=tuple(results[-1].value),  # type: ignore[arg-type]
            results_count=len(results),
            start_us=laps[0] if laps else None, end_us=laps[-1] if laps else None,
            host_elapsed_s=host_elapsed,
            lines=tuple(response.lines), wraps=wraps)

