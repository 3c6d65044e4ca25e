"""Read a stream WAV the way the interface board plays it: channel 0, 16 kHz, 16-bit PCM.

The board's player and the reference DUT accept only 16-bit PCM at 16 kHz (protocol.md
5.4); anything else is refused here with the file and the offending header field named.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tinyperf.formats.errors import DatasetError
from tinyperf.reference_models.sww.features import BLOCK, SAMPLE_RATE


def read_channel0(path: str | Path) -> np.ndarray:
    """Channel 0 (left) of a 16 kHz 16-bit PCM WAV as int16; ``DatasetError`` otherwise."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            rate, width = wav.getframerate(), wav.getsampwidth()
            channels, frames = wav.getnchannels(), wav.getnframes()
            if wav.getcomptype() != "NONE":
                raise DatasetError(f"field 'compression' is {wav.getcomptype()!r}, "
                                   "need uncompressed PCM", path)
            if rate != SAMPLE_RATE:
                raise DatasetError(f"field 'sample_rate' is {rate} Hz, need {SAMPLE_RATE} Hz",
                                   path)
            if width != 2:
                raise DatasetError(f"field 'bits_per_sample' is {8 * width}, need 16 "
                                   "(16-bit PCM)", path)
            raw = wav.readframes(frames)
    except FileNotFoundError:
        raise DatasetError("WAV file not found", path) from None
    except (wave.Error, EOFError) as exc:
        # the stdlib reader refuses non-PCM formats (e.g. float, format tag 3) here
        raise DatasetError(f"not a 16-bit PCM WAV file: {exc}", path) from exc
    except OSError as exc:
        raise DatasetError(f"cannot read WAV file: {exc}", path) from exc
    data = np.frombuffer(raw, dtype="<i2")
    usable = len(data) - len(data) % channels
    return data[:usable].reshape(-1, channels)[:, 0].astype(np.int16)


def blocks(samples: np.ndarray) -> Iterator[np.ndarray]:
    """Complete 512-sample blocks in order; a trailing partial block is never processed."""
    for k in range(len(samples) // BLOCK):
        yield samples[k * BLOCK:(k + 1) * BLOCK]


def read_blocks(path: str | Path) -> list[np.ndarray]:
    """Channel 0 of ``path`` as the list of 512-sample int16 blocks the DUT receives."""
    return list(blocks(read_channel0(path)))


def duration_s(path: str | Path) -> float:
    """Length of a valid stream WAV in seconds (the truth file's ``length_sec``)."""
    return len(read_channel0(path)) / SAMPLE_RATE
