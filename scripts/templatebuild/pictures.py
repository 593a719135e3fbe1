"""Pictures for the youngest children's booklet, drawn for this project with Pillow.

Plain line drawings (a font may lack emoji, and clip art has owners): three faces to circle and
four pictures for the parts of a child's life the booklet asks about. Each is a PNG made the same
way on every build, so a rebuild without changes is byte-identical. ``ALT`` is each picture's
alternative text: Word shows it, and LibreOffice's tagged PDF carries it as the figure's /Alt.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw

SIZE = 400
INK = (29, 79, 145)  # the templates' accent blue
WIDTH = 12
SKIN = (255, 214, 102)
Draw = ImageDraw.ImageDraw


def _face(draw: Draw, mouth: str) -> None:
    draw.ellipse((30, 30, 370, 370), fill=SKIN, outline=INK, width=WIDTH)
    for x in (140, 260):
        draw.ellipse((x - 22, 130, x + 22, 190), fill=INK)
    if mouth == "happy":
        draw.arc((110, 150, 290, 300), 20, 160, fill=INK, width=WIDTH + 4)
    elif mouth == "sad":
        draw.arc((110, 250, 290, 400), 200, 340, fill=INK, width=WIDTH + 4)
    else:
        draw.line((130, 270, 270, 270), fill=INK, width=WIDTH + 4)


def _home(draw: Draw) -> None:
    draw.polygon([(200, 40), (40, 190), (360, 190)], fill=(240, 128, 96), outline=INK,
                 width=WIDTH)
    draw.rectangle((80, 190, 320, 360), fill=(255, 255, 255), outline=INK, width=WIDTH)
    draw.rectangle((170, 250, 230, 360), fill=(120, 170, 220), outline=INK, width=WIDTH)
    draw.rectangle((100, 220, 150, 265), outline=INK, width=WIDTH - 4)
    draw.rectangle((250, 220, 300, 265), outline=INK, width=WIDTH - 4)


def _school(draw: Draw) -> None:
    draw.rectangle((40, 150, 360, 360), fill=(255, 255, 255), outline=INK, width=WIDTH)
    draw.polygon([(200, 60), (30, 150), (370, 150)], fill=(150, 200, 140), outline=INK,
                 width=WIDTH)
    draw.ellipse((170, 85, 230, 140), fill=(255, 255, 255), outline=INK, width=6)  # a clock
    draw.line((200, 112, 200, 95), fill=INK, width=5)
    draw.line((200, 112, 215, 112), fill=INK, width=5)
    draw.rectangle((170, 270, 230, 360), fill=(120, 170, 220), outline=INK, width=WIDTH)
    for x in (70, 290):
        draw.rectangle((x, 190, x + 45, 240), outline=INK, width=WIDTH - 4)
    draw.line((200, 60, 200, 20), fill=INK, width=6)  # a flag
    draw.polygon([(200, 20), (250, 32), (200, 44)], fill=(240, 128, 96))


def _person(draw: Draw, x: int, height: int, fill: tuple[int, int, int]) -> None:
    """A simple standing figure, ``height`` pixels tall, centred on ``x``, feet at 370."""
    head = height // 5
    top = 370 - height
    draw.ellipse((x - head // 2, top, x + head // 2, top + head), fill=SKIN, outline=INK,
                 width=8)
    body_top, hip = top + head, top + head + int(height * 0.45)
    draw.polygon([(x - head // 2 - 6, body_top + 4), (x + head // 2 + 6, body_top + 4),
                  (x + head // 2 + 14, hip), (x - head // 2 - 14, hip)], fill=fill,
                 outline=INK, width=8)
    for side in (-1, 1):
        draw.line((x + side * head // 4, hip, x + side * head // 3, 370), fill=INK, width=9)
        draw.line((x + side * (head // 2 + 4), body_top + 12,
                   x + side * (head // 2 + 30), hip - 10), fill=INK, width=9)


def _family(draw: Draw) -> None:
    _person(draw, 95, 300, (240, 128, 96))
    _person(draw, 305, 290, (120, 170, 220))
    _person(draw, 200, 190, (150, 200, 140))


def _friends(draw: Draw) -> None:
    _person(draw, 130, 230, (120, 170, 220))
    _person(draw, 270, 230, (240, 128, 96))
    draw.line((165, 250, 235, 250), fill=INK, width=9)  # holding hands
    draw.polygon([(200, 40), (214, 75), (250, 78), (222, 100), (232, 135), (200, 115),
                  (168, 135), (178, 100), (150, 78), (186, 75)], fill=SKIN, outline=INK)


PICTURES: dict[str, Callable[[Draw], None]] = {
    "happy": lambda d: _face(d, "happy"),
    "ok": lambda d: _face(d, "ok"),
    "sad": lambda d: _face(d, "sad"),
    "home": _home,
    "school": _school,
    "family": _family,
    "friends": _friends,
}
ALT = {
    "happy": "A happy face",
    "ok": "A face that feels OK",
    "sad": "A sad face",
    "home": "A drawing of a house",
    "school": "A drawing of a school",
    "family": "A drawing of a family: two grown-ups and a child",
    "friends": "A drawing of two friends holding hands",
}


def png(name: str) -> io.BytesIO:
    """The picture ``name`` as PNG bytes."""
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    PICTURES[name](ImageDraw.Draw(image))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    out.seek(0)
    return out


if __name__ == "__main__":  # a look at them all: python scripts/templatebuild/pictures.py DIR
    import sys
    from pathlib import Path

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for key in PICTURES:
        (folder / f"{key}.png").write_bytes(png(key).getvalue())
