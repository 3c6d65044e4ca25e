"""Procedural pictures for the ic01 and vww01 demo sets (no dataset, no download).

Each picture is a smooth background (sky/ground gradients, low-frequency noise) with simple
shapes standing for the class: an ic01 "airplane" is a pale fuselage and wings on a blue
sky, a "ship" a grey hull on a blue sea; a vww01 "person" is a head, torso and legs over an
indoor or outdoor scene, its box well above 2.5 % of the image. They look nothing like
CIFAR-10 or COCO photographs to a person, and the reference models score them only a little
above chance: accuracy on them is a pipeline check (bytes, layout, protocol, scoring), not
an MLPerf result. Deterministic for a given ``numpy.random.Generator`` state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

RGB = tuple[float, float, float]
Painter = Callable[[np.ndarray, np.random.Generator], None]


def _gradient(h: int, w: int, top: RGB, bottom: RGB) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    return np.broadcast_to((1 - t) * np.array(top) + t * np.array(bottom), (h, w, 3)).copy()


def _scene(h: int, w: int, rng: np.random.Generator, top: RGB, bottom: RGB,
           horizon: float | None = None, ground: RGB | None = None) -> np.ndarray:
    img = _gradient(h, w, top, bottom)
    if horizon is not None and ground is not None:
        img[int(horizon * h):] = ground
    noise = ndimage.gaussian_filter(rng.normal(0, 1, (h, w, 3)), (h / 12, w / 12, 0))
    return img + 25 * noise / max(1e-9, float(np.abs(noise).max()))


def _ellipse(img: np.ndarray, cy: float, cx: float, ry: float, rx: float, color: RGB,
             angle: float = 0.0) -> None:
    h, w, _ = img.shape
    y, x = np.mgrid[0:h, 0:w]
    c, s = np.cos(angle), np.sin(angle)
    u, v = (x - cx * w) * c + (y - cy * h) * s, -(x - cx * w) * s + (y - cy * h) * c
    img[(u / (rx * w)) ** 2 + (v / (ry * h)) ** 2 <= 1.0] = color


def _rect(img: np.ndarray, y0: float, x0: float, y1: float, x1: float, color: RGB) -> None:
    h, w, _ = img.shape
    img[int(y0 * h):max(int(y1 * h), int(y0 * h) + 1), int(x0 * w):max(int(x1 * w),
                                                                     int(x0 * w) + 1)] = color


def _jitter(rng: np.random.Generator, color: RGB, amount: float = 25.0) -> RGB:
    r, g, b = np.clip(np.array(color) + rng.normal(0, amount, 3), 0, 255)
    return float(r), float(g), float(b)


# -- ic01: one painter per CIFAR-10 class (label order) -----------------------------------------


def _airplane(img: np.ndarray, rng: np.random.Generator) -> None:
    cy, cx, a = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6), rng.uniform(-0.4, 0.4)
    body = _jitter(rng, (215, 215, 220), 15)
    _ellipse(img, cy, cx, 0.07, 0.38, body, a)
    _ellipse(img, cy, cx, 0.35, 0.06, body, a + 0.2)


def _automobile(img: np.ndarray, rng: np.random.Generator) -> None:
    color, y = _jitter(rng, (190, 30, 30), 60), rng.uniform(0.45, 0.55)
    _rect(img, y, 0.12, y + 0.25, 0.88, color)
    _ellipse(img, y, 0.5, 0.14, 0.24, color)
    _ellipse(img, y - 0.02, 0.5, 0.08, 0.16, (140, 170, 190))
    for x in (0.28, 0.72):
        _ellipse(img, y + 0.26, x, 0.09, 0.09, (20, 20, 20))


def _bird(img: np.ndarray, rng: np.random.Generator) -> None:
    cy, cx, color = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6), _jitter(rng, (120, 80, 50))
    _ellipse(img, cy, cx, 0.13, 0.2, color, rng.uniform(-0.5, 0.5))
    _ellipse(img, cy - 0.14, cx + 0.15, 0.08, 0.08, color)
    _ellipse(img, cy - 0.14, cx + 0.25, 0.02, 0.05, (230, 180, 40))


def _cat(img: np.ndarray, rng: np.random.Generator) -> None:
    color, cx = _jitter(rng, (200, 130, 60), 50), rng.uniform(0.42, 0.58)
    _ellipse(img, 0.55, cx, 0.3, 0.3, color)
    for dx in (-0.18, 0.18):
        _ellipse(img, 0.3, cx + dx, 0.14, 0.07, color, 0.3 * np.sign(dx))
        _ellipse(img, 0.5, cx + dx * 0.6, 0.05, 0.04, (60, 160, 60))


def _deer(img: np.ndarray, rng: np.random.Generator) -> None:
    color, cx = _jitter(rng, (150, 100, 55), 20), rng.uniform(0.4, 0.6)
    _ellipse(img, 0.5, cx, 0.13, 0.25, color)
    for dx in (-0.18, -0.1, 0.1, 0.18):
        _rect(img, 0.55, cx + dx - 0.02, 0.85, cx + dx + 0.02, color)
    _ellipse(img, 0.3, cx + 0.24, 0.08, 0.06, color)


def _dog(img: np.ndarray, rng: np.random.Generator) -> None:
    color, cx = _jitter(rng, (170, 120, 70), 50), rng.uniform(0.42, 0.58)
    _ellipse(img, 0.55, cx, 0.3, 0.27, color)
    for dx in (-0.25, 0.25):
        _ellipse(img, 0.55, cx + dx, 0.2, 0.07, _jitter(rng, (90, 60, 35), 10))
    _ellipse(img, 0.68, cx, 0.08, 0.1, (30, 25, 25))


def _frog(img: np.ndarray, rng: np.random.Generator) -> None:
    color, cx = _jitter(rng, (70, 150, 50), 25), rng.uniform(0.4, 0.6)
    _ellipse(img, 0.6, cx, 0.22, 0.33, color)
    for dx in (-0.15, 0.15):
        _ellipse(img, 0.4, cx + dx, 0.08, 0.08, color)
        _ellipse(img, 0.4, cx + dx, 0.04, 0.04, (20, 20, 20))


def _horse(img: np.ndarray, rng: np.random.Generator) -> None:
    color, cx = _jitter(rng, (100, 60, 35), 25), rng.uniform(0.4, 0.6)
    _ellipse(img, 0.5, cx, 0.15, 0.3, color)
    _ellipse(img, 0.3, cx + 0.28, 0.2, 0.07, color, 0.6)
    for dx in (-0.22, -0.12, 0.12, 0.22):
        _rect(img, 0.55, cx + dx - 0.025, 0.92, cx + dx + 0.025, color)


def _ship(img: np.ndarray, rng: np.random.Generator) -> None:
    y = rng.uniform(0.5, 0.6)
    _rect(img, y, 0.1, y + 0.15, 0.9, _jitter(rng, (90, 90, 95), 20))
    _rect(img, y - 0.15, 0.35, y, 0.7, (235, 235, 235))


def _truck(img: np.ndarray, rng: np.random.Generator) -> None:
    y = rng.uniform(0.3, 0.4)
    _rect(img, y, 0.08, y + 0.4, 0.68, _jitter(rng, (200, 200, 205), 40))
    _rect(img, y + 0.12, 0.68, y + 0.4, 0.92, _jitter(rng, (30, 70, 160), 50))
    for x in (0.22, 0.55, 0.8):
        _ellipse(img, y + 0.44, x, 0.08, 0.08, (20, 20, 20))


_SKY, _GRASS, _ROOM = ((110, 160, 225), (200, 220, 240)), (85, 130, 60), ((170, 150, 130),
                                                                         (120, 100, 80))
#: (painter, background) per ic01 class: background (top, bottom[, horizon, ground]).
IC_CLASSES: tuple[tuple[Painter, tuple], ...] = (
    (_airplane, (*_SKY,)), (_automobile, ((150, 150, 155), (90, 90, 90))),
    (_bird, (*_SKY, 0.75, _GRASS)), (_cat, _ROOM), (_deer, ((60, 90, 50), (100, 120, 60))),
    (_dog, ((160, 170, 150), (120, 140, 90))), (_frog, ((90, 80, 50), (70, 90, 40))),
    (_horse, (*_SKY, 0.5, _GRASS)), (_ship, (*_SKY, 0.55, (40, 80, 140))),
    (_truck, ((160, 175, 190), (110, 110, 110))),
)


def ic01_image(label: int, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """A [size, size, 3] uint8 RGB picture standing for CIFAR-10 class ``label``."""
    painter, bg = IC_CLASSES[label]
    img = _scene(size, size, rng, *bg)
    painter(img, rng)
    return np.clip(ndimage.gaussian_filter(img, (0.6, 0.6, 0)), 0, 255).astype(np.uint8)


# -- vww01 --------------------------------------------------------------------------------------

_VWW_SCENES = (((110, 160, 225), (210, 225, 240), 0.6, (90, 130, 70)),  # park
               ((170, 150, 130), (120, 100, 80), 0.7, (100, 80, 60)),  # room
               ((150, 160, 170), (110, 110, 115), 0.65, (80, 80, 85)))  # street


def _person(img: np.ndarray, rng: np.random.Generator) -> None:
    """Head and shoulders, close up (most COCO "person" pictures are of people near)."""
    cx, cy, r = rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.45), rng.uniform(0.16, 0.24)
    skin, hair = _jitter(rng, (205, 160, 130), 30), _jitter(rng, (60, 40, 25), 25)
    shirt = _jitter(rng, (60, 90, 170), 80)
    _ellipse(img, cy + 2.3 * r, cx, 1.2 * r, 2.0 * r, shirt)  # shoulders
    _rect(img, cy + 0.8 * r, cx - 0.35 * r, cy + 1.4 * r, cx + 0.35 * r, skin)  # neck
    _ellipse(img, cy - 0.25 * r, cx, 0.95 * r, 0.78 * r, hair)
    _ellipse(img, cy, cx, r, 0.7 * r, skin)
    for dx in (-0.28, 0.28):
        _ellipse(img, cy - 0.1 * r, cx + dx * r, 0.09 * r, 0.12 * r, (40, 30, 30))
    _ellipse(img, cy + 0.5 * r, cx, 0.08 * r, 0.25 * r, (150, 70, 70))  # mouth


def _objects(img: np.ndarray, rng: np.random.Generator) -> None:
    for _ in range(int(rng.integers(1, 4))):
        x, y = rng.uniform(0.1, 0.8), rng.uniform(0.3, 0.7)
        if rng.uniform() < 0.5:  # a tree
            _rect(img, y, x + 0.04, y + 0.3, x + 0.07, (90, 60, 35))
            _ellipse(img, y, x + 0.055, 0.15, 0.12, _jitter(rng, (50, 110, 45), 20))
        else:  # a box, a car, a table
            _rect(img, y, x, y + rng.uniform(0.1, 0.25), x + rng.uniform(0.1, 0.3),
                  _jitter(rng, (140, 120, 100), 60))


def vww01_image(person: bool, rng: np.random.Generator, height: int = 120,
                width: int = 160) -> np.ndarray:
    """A [height, width, 3] uint8 RGB scene with (``person``) or without a person; larger
    than 96x96 on purpose, so preparing it goes through the reference resize."""
    top, bottom, horizon, ground = _VWW_SCENES[int(rng.integers(len(_VWW_SCENES)))]
    img = _scene(height, width, rng, top, bottom, horizon, ground)
    _objects(img, rng)
    if person:
        _person(img, rng)
    return np.clip(ndimage.gaussian_filter(img, (0.8, 0.8, 0)), 0, 255).astype(np.uint8)
