"""The virtual DUT's ``fl`` commands (docs/fast_load.md): capabilities and binary blocks.

Owns the state of one binary block (``fl load`` / ``fl shift``) between its header and its
last data byte. Pure like the core: bytes in, lines out; the receive timeout is declared
here (``timeout_us``) but measured by the server, which owns real time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tinyperf.formats import fast_load as fl
from tinyperf.formats import protocol as p

if TYPE_CHECKING:
    from .core import Response, VirtualDut

#: The virtual DUT's receive queue as advertised (``R``): the pty's kernel buffer holds more.
DEFAULT_RX_BYTES = 4096
#: Gap that ends a block. Generous: the host is another process on a shared machine, and a
#: lost byte costs this much once (the host then retries).
DEFAULT_TIMEOUT_US = 500_000


@dataclass
class Block:
    """A block being received: ``size`` raw bytes for ``fl load`` or ``fl shift``."""

    shift: int  # 0 for a load, else K
    size: int  # bytes to receive
    crc: int  # the host's CRC of the whole window
    data: bytearray = field(default_factory=bytearray)
    #: the ``fl`` command's response, completed when the block ends (set by the core)
    response: Response | None = None

    @property
    def remaining(self) -> int:
        return self.size - len(self.data)


class FastLoadPort:
    """``fl caps``, ``fl load`` and ``fl shift`` on a ``VirtualDut``'s input buffer."""

    def __init__(self, dut: VirtualDut, rx_bytes: int = DEFAULT_RX_BYTES,
                 timeout_us: int = DEFAULT_TIMEOUT_US, shift: bool = True) -> None:
        self.dut = dut
        self.rx_bytes = rx_bytes
        self.timeout_us = timeout_us
        self.shift = shift
        self.block: Block | None = None

    @property
    def caps_line(self) -> str:
        # the engine computing the outputs (build_infer_fn tags its function): a fact a
        # run records in run.json, which the standard protocol has no place for
        engine = getattr(self.dut.infer_fn, "engine", None)
        return fl.format_caps(self.rx_bytes, self.dut.config.max_db_input_size, self.shift,
                              self.timeout_us, f"engine-{engine}" if engine else None)

    def command(self, args: list[str], out: list) -> Block | None:
        """Run ``fl <args>``; a load/shift with good arguments returns the block to receive
        (its reply comes when the block ends), anything else is answered in ``out``."""
        if args == ["caps"]:
            out.append(self.caps_line)
            return None
        try:
            parsed = fl.parse_block_args(args)
        except fl.FastLoadFormatError:
            self._invalidate()
            out.append(p.msg_error(fl.ERR_BAD_ARGUMENTS))
            return None
        capacity = self.dut.config.max_db_input_size
        if parsed.sub == "load":
            if parsed.count > capacity:
                self._invalidate()
                out.append(p.msg_error(fl.err_size(parsed.count, capacity)))
                return None
            return self._begin(0, parsed.count, parsed.crc)
        loaded = self.dut.loaded_size
        if not self.shift or loaded == 0 or parsed.count > loaded:
            self._invalidate()
            out.append(p.msg_error(fl.ERR_BAD_ARGUMENTS))
            return None
        return self._begin(parsed.count, parsed.count, parsed.crc)

    def _begin(self, shift: int, size: int, crc: int) -> Block:
        self.block = Block(shift, size, crc)
        return self.block

    def receive(self, data: bytes) -> Response | None:
        """Take data bytes of the current block (at most ``remaining``); its reply when full."""
        block = self.block
        assert block is not None and block.response is not None
        assert len(data) <= block.remaining
        block.data.extend(data)
        if block.remaining:
            return None
        self.block = None
        buf = self.dut.input_buffer
        if block.shift:
            n = self.dut.loaded_size
            buf[: n - block.shift] = buf[block.shift : n]  # memmove
            buf[n - block.shift : n] = block.data
        else:
            n = block.size
            buf[:n] = block.data
        got = fl.crc32(bytes(buf[:n]))
        out = block.response.events
        out.append(fl.msg_crc(got))
        if got == block.crc:
            self.dut.set_loaded(n)
            out.append(p.MSG_LOAD_DONE)
        else:
            self._invalidate()
            out.append(p.msg_error(fl.ERR_CRC_MISMATCH))
        out.append(p.MSG_READY)
        return block.response

    def expire(self) -> Response:
        """The receive gap passed ``timeout_us``: end the block with the timeout error."""
        block = self.block
        assert block is not None and block.response is not None
        self.block = None
        self._invalidate()
        block.response.events += [p.msg_error(fl.err_timeout(len(block.data), block.size)),
                                  p.MSG_READY]
        return block.response

    def reset(self) -> None:
        self.block = None

    def _invalidate(self) -> None:
        self.dut.set_loaded(0)
