"""``qemu://`` and ``host://`` links: build and start the C firmware, hand out its real link.

Accepted specs (``tinyperf run --port SPEC``):

- ``qemu``, ``qemu://``, ``qemu://ad01``, ``qemu://standin`` -- the MPS2-AN386 image under
  QEMU (``-icount shift=3``), built into the firmware cache if needed; ad01 by default;
- ``qemu:///path/to/image.elf`` -- a prebuilt image;
- ``host://ad01``, ``host://standin``, ``host:///path/to/tinyperf-dut`` -- the POSIX build on
  a pty. Query parameters become firmware options: ``host://standin?sim-infer-us=50000``.

:func:`open_firmware_link` returns a :class:`FirmwareLink` (which also unpacks as
``url, close``); ``close()`` stops the firmware and is safe to call twice. The caller must call
it (``run_session`` does). ``exit_report()`` says why the firmware stopped by itself (a
fault, a failed start-up, a crash), so a dead DUT is reported as such instead of a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tinyperf.firmware_interface.host import MODELS, FirmwareError, HostFirmware, build_host

SCHEMES = ("qemu", "host")


def is_firmware_link(spec: str) -> bool:
    """True for ``qemu``, ``qemu:...`` and ``host://...`` (not a device path)."""
    return spec == "qemu" or spec.startswith("qemu:") or spec.startswith("host://")


def parse_firmware_link(spec: str) -> tuple[str, str | None, Path | None, list[str]]:
    """``(scheme, model, image, options)``: exactly one of ``model`` and ``image`` is set."""
    if spec == "qemu":
        spec = "qemu://"
    parts = urlsplit(spec)
    if parts.scheme not in SCHEMES:
        raise FirmwareError(f"not a firmware link: {spec!r} (qemu://MODEL or host://MODEL)")
    options: list[str] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        options += [f"--{key}"] + ([value] if value else [])
    if parts.path not in ("", "/"):
        return parts.scheme, None, Path(parts.netloc + parts.path), options
    model = parts.netloc or "ad01"
    if model not in MODELS:
        raise FirmwareError(f"{spec}: unknown model {model!r} (known: {', '.join(MODELS)}, "
                            "or give an image path: qemu:///path/fw.elf)")
    return parts.scheme, model, None, options


@dataclass
class FirmwareLink:
    """A started firmware (QEMU or host process) and the link URL it serves."""

    url: str
    firmware: Any  # QemuFirmware | HostFirmware

    def close(self) -> None:
        self.firmware.close()

    def exit_report(self, wait_s: float = 0.0) -> str | None:
        return self.firmware.exit_report(wait_s)

    def __iter__(self) -> Iterator[Any]:  # ``url, close = open_firmware_link(...)``
        return iter((self.url, self.close))


def start_firmware(spec: str) -> FirmwareLink | None:
    """Start the firmware a port spec names; None for a plain link (device path, URL).

    This is the ``start_dut`` hook of ``tinyperf.harness.run.runner.run_session``.
    """
    return open_firmware_link(spec) if is_firmware_link(spec) else None


def open_firmware_link(spec: str, *, build_dir: str | Path | None = None,
                       lifetime_s: float | None = None) -> FirmwareLink:
    """Build if needed, start the firmware ``spec`` names; return its :class:`FirmwareLink`."""
    scheme, model, image, options = parse_firmware_link(spec)
    if scheme == "qemu":
        from tinyperf.firmware_interface.qemu import QemuFirmware, build_qemu

        if options:
            raise FirmwareError(f"{spec}: qemu links take no options")
        elf = image if image is not None else build_qemu(model or "ad01", build_dir)
        fw = QemuFirmware(elf, lifetime_s=lifetime_s)
        return FirmwareLink(fw.url, fw)
    binary = image if image is not None else build_host(model or "ad01", build_dir)
    host = HostFirmware(binary, *options)
    return FirmwareLink(host.url, host)
