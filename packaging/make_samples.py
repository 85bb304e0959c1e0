"""Draw the sample images offered on first start (no photographs, no third-party files).

    python packaging/make_samples.py      # writes resources/samples/*

Each picture is a plain, recognisable scene drawn with Pillow at 320x240. Shapes
are drawn at 2x and downsampled so their edges are smooth; the only randomness
(grass, sand) comes from a seeded generator, so reruns give the same pixels.
The files are committed; resources/samples/LICENSE.md names this script as their
source.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "samples"
W, H = 320, 240
S = 2  # supersampling factor


def canvas(color) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (W * S, H * S), color)
    return img, ImageDraw.Draw(img)


def finish(img: Image.Image) -> Image.Image:
    return img.resize((W, H), Image.Resampling.LANCZOS)


def box(x0, y0, x1, y1):
    """Coordinates in 320x240 units, scaled to the supersampled canvas."""
    return [x0 * S, y0 * S, x1 * S, y1 * S]


def vertical_gradient(draw, top, bottom, y0, y1) -> None:
    for y in range(y0 * S, y1 * S):
        t = (y - y0 * S) / max(1, (y1 - y0) * S - 1)
        draw.line([(0, y), (W * S, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))


def speckle(draw, rng, region, base, spread, count) -> None:
    """Short strokes of jittered colour: reads as grass or sand texture."""
    x0, y0, x1, y1 = region
    for _ in range(count):
        x, y = rng.uniform(x0, x1) * S, rng.uniform(y0, y1) * S
        c = tuple(max(0, min(255, v + rng.randint(-spread, spread))) for v in base)
        draw.line([(x, y), (x + rng.uniform(-2, 2) * S, y - rng.uniform(2, 6) * S)], fill=c, width=S)


def checkerboard() -> Image.Image:
    img, d = canvas("white")
    cell = 20
    for r in range(H // cell):
        for c in range(W // cell):
            if (r + c) % 2:
                d.rectangle(box(c * cell, r * cell, (c + 1) * cell, (r + 1) * cell), fill=(20, 20, 20))
    return finish(img)


def stripes() -> Image.Image:
    img, d = canvas("white")
    colours = [(230, 57, 70), (244, 162, 97), (233, 196, 106), (42, 157, 143), (38, 70, 83), (69, 123, 157)]
    band = 24
    for i in range(-H // band, (W + H) // band + 1):
        x = i * band
        d.polygon([(x * S, 0), ((x + band) * S, 0), ((x + band - H) * S, H * S), ((x - H) * S, H * S)],
                  fill=colours[i % len(colours)])
    return finish(img)


def red_ball_on_grass() -> Image.Image:
    rng = random.Random(1)
    img, d = canvas((86, 160, 60))
    speckle(d, rng, (0, 0, W, H), (70, 150, 50), 40, 9000)
    d.ellipse(box(135, 156, 245, 180), fill=(40, 90, 30))  # shadow, behind the ball
    d.ellipse(box(120, 70, 220, 170), fill=(200, 20, 30))
    d.ellipse(box(140, 88, 178, 118), fill=(240, 110, 110))  # highlight
    d.ellipse(box(150, 95, 166, 108), fill=(255, 200, 200))
    return finish(img)


def car() -> Image.Image:
    img, d = canvas("white")
    vertical_gradient(d, (110, 170, 230), (200, 225, 245), 0, 170)
    d.rectangle(box(0, 170, W, H), fill=(70, 70, 75))  # road
    for x in range(10, W, 60):
        d.rectangle(box(x, 210, x + 30, 215), fill=(240, 240, 240))
    d.rounded_rectangle(box(40, 115, 280, 175), radius=14 * S, fill=(200, 30, 40))  # body
    d.polygon([(95 * S, 118 * S), (125 * S, 78 * S), (210 * S, 78 * S), (240 * S, 118 * S)], fill=(200, 30, 40))
    d.polygon([(108 * S, 116 * S), (130 * S, 86 * S), (163 * S, 86 * S), (163 * S, 116 * S)], fill=(180, 215, 240))
    d.polygon([(171 * S, 116 * S), (171 * S, 86 * S), (205 * S, 86 * S), (227 * S, 116 * S)], fill=(180, 215, 240))
    d.rectangle(box(268, 128, 280, 140), fill=(255, 230, 120))  # headlight
    d.rectangle(box(40, 130, 48, 140), fill=(255, 120, 60))  # tail light
    for cx in (95, 225):
        d.ellipse(box(cx - 26, 150, cx + 26, 202), fill=(25, 25, 25))
        d.ellipse(box(cx - 12, 164, cx + 12, 188), fill=(170, 170, 175))
    return finish(img)


def house() -> Image.Image:
    rng = random.Random(2)
    img, d = canvas("white")
    vertical_gradient(d, (90, 160, 225), (190, 220, 245), 0, 190)
    d.rectangle(box(0, 190, W, H), fill=(90, 160, 70))
    speckle(d, rng, (0, 192, W, H), (80, 150, 60), 35, 2500)
    d.ellipse(box(250, 20, 296, 66), fill=(255, 215, 80))  # sun
    d.rectangle(box(70, 110, 250, 200), fill=(235, 215, 170))  # walls
    d.polygon([(55 * S, 112 * S), (160 * S, 45 * S), (265 * S, 112 * S)], fill=(150, 50, 40))  # roof
    d.rectangle(box(195, 55, 215, 90), fill=(120, 60, 50))  # chimney
    d.rectangle(box(145, 140, 177, 200), fill=(110, 70, 40))  # door
    d.ellipse(box(169, 168, 174, 173), fill=(230, 200, 90))
    for x0 in (90, 200):
        d.rectangle(box(x0, 130, x0 + 32, 162), fill=(255, 255, 255))
        d.rectangle(box(x0 + 3, 133, x0 + 29, 159), fill=(150, 200, 235))
        d.line(box(x0 + 16, 133, x0 + 16, 159), fill=(255, 255, 255), width=2 * S)
        d.line(box(x0 + 3, 146, x0 + 29, 146), fill=(255, 255, 255), width=2 * S)
    return finish(img)


def beach_sunset() -> Image.Image:
    rng = random.Random(3)
    img, d = canvas("white")
    vertical_gradient(d, (250, 120, 70), (255, 205, 120), 0, 140)
    d.ellipse(box(130, 95, 190, 155), fill=(255, 240, 190))  # sun, half set
    vertical_gradient(d, (40, 90, 150), (70, 140, 180), 140, 195)
    for y in range(146, 195, 9):
        d.line(box(120, y, 200, y), fill=(255, 210, 150), width=2 * S)  # reflection
    d.rectangle(box(0, 195, W, H), fill=(225, 200, 150))
    speckle(d, rng, (0, 197, W, H), (215, 190, 140), 20, 2500)
    return finish(img)


# name -> (drawing function, file format). JPEG for the photo-like scenes, PNG for the
# hard-edged patterns JPEG would blur.
SAMPLES = {
    "checkerboard.png": checkerboard,
    "stripes.png": stripes,
    "red-ball-on-grass.jpg": red_ball_on_grass,
    "car.png": car,
    "house.jpg": house,
    "beach-sunset.jpg": beach_sunset,
}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in SAMPLES.items():
        path = OUT / name
        img = draw()
        if path.suffix == ".jpg":
            img.save(path, quality=90, optimize=True)
        else:
            img.save(path, optimize=True)
        print(f"wrote {path.relative_to(OUT.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
