"""Draw the six shipped badge images into app/static/badges/ (256 × 256 PNG, transparent).

A one-off: the images are committed, so nothing runs this at build or run time. To redraw:

    python3 -m venv /tmp/pillow && /tmp/pillow/bin/pip install Pillow==13.0.0
    /tmp/pillow/bin/python scripts/make_badge_images.py
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "app" / "static" / "badges"
SIZE = 256
SCALE = 4                      # drawn large, then scaled down for smooth edges
S = SIZE * SCALE
WHITE = (255, 255, 255, 255)
GOLD = (255, 201, 20, 255)
GOLD_DARK = (204, 142, 0, 255)


def canvas():
    image = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    return image, ImageDraw.Draw(image)


def star_points(cx, cy, outer, inner, points=5, rotation=-90):
    coords = []
    for i in range(points * 2):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(rotation + i * 180 / points)
        coords.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return coords


def save(image, name):
    image.resize((SIZE, SIZE), Image.LANCZOS).save(OUT / name, optimize=True)


def font(size):
    return ImageFont.load_default(size=size * SCALE)


def qa_excellence():
    """A blue shield with a white tick and three gold stars: ten top QA scores in a month."""
    image, draw = canvas()
    c = S / 2
    shield = [(c, 24 * SCALE), (228 * SCALE, 62 * SCALE), (218 * SCALE, 150 * SCALE),
              (c, 238 * SCALE), (38 * SCALE, 150 * SCALE), (28 * SCALE, 62 * SCALE)]
    draw.polygon(shield, fill=(9, 105, 218, 255))
    inner = [(c, 44 * SCALE), (208 * SCALE, 76 * SCALE), (200 * SCALE, 144 * SCALE),
             (c, 214 * SCALE), (56 * SCALE, 144 * SCALE), (48 * SCALE, 76 * SCALE)]
    draw.polygon(inner, fill=(33, 139, 255, 255))
    draw.line([(84 * SCALE, 134 * SCALE), (116 * SCALE, 166 * SCALE),
               (176 * SCALE, 100 * SCALE)], fill=WHITE, width=20 * SCALE, joint="curve")
    for x in (100, 128, 156):
        y = 72 if x == 128 else 80
        draw.polygon(star_points(x * SCALE, y * SCALE, 13 * SCALE, 5.5 * SCALE), fill=GOLD)
    save(image, "qa_excellence.png")


def heart(draw, cx, cy, size, fill):
    r = size / 2
    draw.ellipse([cx - size, cy - r * 1.4, cx, cy + r * 0.6], fill=fill)
    draw.ellipse([cx, cy - r * 1.4, cx + size, cy + r * 0.6], fill=fill)
    draw.polygon([(cx - size * 0.96, cy - r * 0.2), (cx + size * 0.96, cy - r * 0.2),
                  (cx, cy + size * 1.15)], fill=fill)


def praised_five():
    """A coral medallion with a white heart and five gold stars: customers' favourite."""
    image, draw = canvas()
    c = S / 2
    draw.ellipse([12 * SCALE, 12 * SCALE, 244 * SCALE, 244 * SCALE], fill=(207, 34, 46, 255))
    draw.ellipse([26 * SCALE, 26 * SCALE, 230 * SCALE, 230 * SCALE], fill=(250, 95, 85, 255))
    heart(draw, c, 140 * SCALE, 52 * SCALE, WHITE)
    for i in range(5):
        angle = math.radians(-150 + i * 30)
        x, y = c + 78 * SCALE * math.cos(angle), 128 * SCALE + 78 * SCALE * math.sin(angle)
        draw.polygon(star_points(x, y, 14 * SCALE, 6 * SCALE), fill=GOLD)
    save(image, "praised_five.png")


def first_sign_off():
    """A green rosette with ribbon tails and a "1": the first practice a mentor signed off."""
    image, draw = canvas()
    c = S / 2
    ribbon = (26, 127, 55, 255)
    draw.polygon([(92 * SCALE, 150 * SCALE), (62 * SCALE, 246 * SCALE), (86 * SCALE, 232 * SCALE),
                  (104 * SCALE, 252 * SCALE), (124 * SCALE, 160 * SCALE)], fill=ribbon)
    draw.polygon([(164 * SCALE, 150 * SCALE), (194 * SCALE, 246 * SCALE),
                  (170 * SCALE, 232 * SCALE), (152 * SCALE, 252 * SCALE),
                  (132 * SCALE, 160 * SCALE)], fill=ribbon)
    for i in range(16):
        angle = math.radians(i * 360 / 16)
        x, y = c + 84 * SCALE * math.cos(angle), 108 * SCALE + 84 * SCALE * math.sin(angle)
        draw.ellipse([x - 22 * SCALE, y - 22 * SCALE, x + 22 * SCALE, y + 22 * SCALE],
                     fill=(45, 164, 78, 255))
    draw.ellipse([c - 86 * SCALE, 22 * SCALE, c + 86 * SCALE, 194 * SCALE], fill=(45, 164, 78, 255))
    draw.ellipse([c - 66 * SCALE, 42 * SCALE, c + 66 * SCALE, 174 * SCALE], fill=WHITE)
    draw.ellipse([c - 58 * SCALE, 50 * SCALE, c + 58 * SCALE, 166 * SCALE],
                 fill=(218, 251, 225, 255))
    draw.text((c, 110 * SCALE), "1", font=font(92), fill=ribbon, anchor="mm")
    save(image, "first_sign_off.png")


def smile_star():
    """A golden star with a smiling face: warm, smiling service."""
    image, draw = canvas()
    c = S / 2
    draw.polygon(star_points(c, 136 * SCALE, 124 * SCALE, 56 * SCALE), fill=GOLD_DARK)
    draw.polygon(star_points(c, 136 * SCALE, 108 * SCALE, 48 * SCALE), fill=GOLD)
    eye = 9 * SCALE
    for x in (108, 148):
        draw.ellipse([x * SCALE - eye, 118 * SCALE - eye * 1.3, x * SCALE + eye,
                      118 * SCALE + eye * 1.3], fill=(74, 48, 0, 255))
    draw.arc([98 * SCALE, 118 * SCALE, 158 * SCALE, 170 * SCALE], start=20, end=160,
             fill=(74, 48, 0, 255), width=8 * SCALE)
    for x in (92, 164):
        draw.ellipse([x * SCALE - 9 * SCALE, 142 * SCALE - 6 * SCALE, x * SCALE + 9 * SCALE,
                      142 * SCALE + 6 * SCALE], fill=(255, 150, 110, 200))
    save(image, "smile_star.png")


def patience_award():
    """A violet hexagon with a white hourglass: calm and patient with a hard customer."""
    image, draw = canvas()
    c = S / 2

    def hexagon(radius):
        return [(c + radius * math.cos(math.radians(90 + 60 * i)),
                 c + radius * math.sin(math.radians(90 + 60 * i))) for i in range(6)]

    draw.polygon(hexagon(122 * SCALE), fill=(98, 57, 183, 255))
    draw.polygon(hexagon(104 * SCALE), fill=(130, 80, 223, 255))
    top, bottom, left, right = 70 * SCALE, 186 * SCALE, 90 * SCALE, 166 * SCALE
    draw.rectangle([left - 10 * SCALE, top - 12 * SCALE, right + 10 * SCALE, top], fill=WHITE)
    draw.rectangle([left - 10 * SCALE, bottom, right + 10 * SCALE, bottom + 12 * SCALE],
                   fill=WHITE)
    draw.polygon([(left, top), (right, top), (c + 8 * SCALE, c), (right, bottom),
                  (left, bottom), (c - 8 * SCALE, c)], fill=WHITE)
    sand = (251, 188, 5, 255)
    draw.polygon([(left + 16 * SCALE, top + 14 * SCALE), (right - 16 * SCALE, top + 14 * SCALE),
                  (c, c - 6 * SCALE)], fill=sand)
    draw.polygon([(c, c + 20 * SCALE), (right - 10 * SCALE, bottom - 6 * SCALE),
                  (left + 10 * SCALE, bottom - 6 * SCALE)], fill=sand)
    draw.line([(c, c - 6 * SCALE), (c, bottom - 8 * SCALE)], fill=sand, width=3 * SCALE)
    save(image, "patience_award.png")


def onboarding_graduate():
    """A blue shield with a white tick under a gold star: the onboarding path completed."""
    image, draw = canvas()
    c = S / 2
    blue, blue_dark = (76, 120, 168, 255), (44, 82, 130, 255)
    shield = [(c, 244 * SCALE), (40 * SCALE, 170 * SCALE), (40 * SCALE, 56 * SCALE),
              (c, 24 * SCALE), (216 * SCALE, 56 * SCALE), (216 * SCALE, 170 * SCALE)]
    draw.polygon(shield, fill=blue_dark)
    inner = [(c, 226 * SCALE), (56 * SCALE, 162 * SCALE), (56 * SCALE, 66 * SCALE),
             (c, 40 * SCALE), (200 * SCALE, 66 * SCALE), (200 * SCALE, 162 * SCALE)]
    draw.polygon(inner, fill=blue)
    draw.line([(84 * SCALE, 140 * SCALE), (116 * SCALE, 172 * SCALE), (176 * SCALE, 104 * SCALE)],
              fill=WHITE, width=20 * SCALE, joint="curve")
    draw.polygon(star_points(c, 76 * SCALE, 26 * SCALE, 11 * SCALE), fill=GOLD)
    save(image, "onboarding_graduate.png")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for draw_badge in (qa_excellence, praised_five, first_sign_off, smile_star, patience_award,
                       onboarding_graduate):
        draw_badge()
    print("written:", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))
