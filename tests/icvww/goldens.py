"""The spec's synthetic ic01/vww01 inputs Z, G, R (ic_vww spec 6.1), built from their rules."""

from __future__ import annotations

import hashlib

import numpy as np

SIDES = {"ic01": 32, "vww01": 96}

#: sha256 of each synthetic .bin (spec 6.1): a check that the inputs are built right.
SHA256 = {
    ("ic01", "Z"): "e80232b4d18d0bb7e794be263ba937626f383f9917d4b8a737ba893a8f752293",
    ("ic01", "G"): "aa3a9df9ba5613cf6e6fe1b0e4d37796034221d229a8f20d6094a9fbb336b1e8",
    ("ic01", "R"): "301dfb7b0444821cab45b16dc2e5453f5985bbfcc43a126415e5db272f098343",
    ("vww01", "Z"): "0a182a88ffcf20dcc892515a01db9af1a707814b982b9c21e1d9b3b4b203ceef",
    ("vww01", "G"): "3e8648b5261c934b6bf266a0ef002d2a5576bb9c9e2371ba787fb094f175095d",
    ("vww01", "R"): "71991df80d943ee8a7ee424a704468d17dc5c63c7fd0269378ac4449bd2afbc0",
}

#: Raw int8 outputs under TFLM (= the reference device), spec 6.2.
TFLM_INT8 = {
    ("ic01", "Z"): [-48, -128, -127, -108, -48, -127, -71, -125, -116, -127],
    ("ic01", "G"): [-127, -126, -128, 74, -128, -124, -92, -128, -119, -127],
    ("ic01", "R"): [-128, -128, -105, -109, -128, -128, 22, -128, -64, -128],
    ("vww01", "Z"): [120, -120],
    ("vww01", "G"): [120, -120],
    ("vww01", "R"): [121, -121],
}

#: The reference firmware's printed m-results lines, spec 6.2 / 3.1.
PRINTED = {
    ("ic01", "Z"): "m-results-[0.312,0.000,0.004,0.078,0.312,0.004,0.223,0.012,0.047,0.004]",
    ("ic01", "G"): "m-results-[0.004,0.008,0.000,0.789,0.000,0.016,0.141,0.000,0.035,0.004]",
    ("ic01", "R"): "m-results-[0.000,0.000,0.090,0.074,0.000,0.000,0.586,0.000,0.250,0.000]",
    ("vww01", "Z"): "m-results-[0.969,0.031,]",
    ("vww01", "G"): "m-results-[0.969,0.031,]",
    ("vww01", "R"): "m-results-[0.973,0.027,]",
}

#: LiteRT BUILTIN_REF where it differs from TFLM (spec 6.2: ic G only).
LITERT_REF_INT8 = {("ic01", "G"): [-127, -126, -128, 73, -128, -124, -92, -128, -117, -127]}

#: Float companions, 6 decimals (spec 6.2).
FLOAT = {
    ("ic01", "Z"): [0.402748, 0.000677, 0.001049, 0.043681, 0.289931, 0.005267, 0.221008,
                    0.009777, 0.017756, 0.008105],
    ("ic01", "G"): [0.004431, 0.011083, 0.000354, 0.847068, 0.000127, 0.030963, 0.077305,
                    0.000003, 0.027048, 0.001617],
    ("ic01", "R"): [0.000000, 0.000043, 0.034131, 0.028382, 0.000000, 0.000000, 0.856663,
                    0.000000, 0.080781, 0.000000],
    ("vww01", "Z"): [0.979771, 0.020229],
    ("vww01", "G"): [0.981180, 0.018820],
    ("vww01", "R"): [0.992708, 0.007292],
}


def synthetic(model: str, kind: str) -> bytes:
    """The exact bytes of input ``kind`` (Z, G or R) for ``model`` (ic01 or vww01)."""
    side = SIDES[model]
    n = side * side * 3
    if kind == "Z":
        return bytes(n)
    if kind == "G":
        row = (255 * np.arange(side)) // (side - 1)
        return np.broadcast_to(row[None, :, None], (side, side, 3)).astype(np.uint8).tobytes()
    if kind == "R":
        out = bytearray(n)
        s = 1
        for i in range(n):
            s = (1103515245 * s + 12345) % (1 << 31)
            out[i] = (s >> 16) & 0xFF
        return bytes(out)
    raise ValueError(kind)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
