"""A season card's faces, rendered as the printer prints them: PNG, CR-80 landscape, 1016 × 648
pixels at 300 dpi (the printer's resolution; Jinja2/HTML is not a printer format).

- **Front**: the venue's logo (when the site has one) and name, the holder's name, the
  subscription (product) and the season.
- **Back**: the card's signed check-in code as a QR code (for a door without a contactless
  reader, and for a card printed without an encoder), and its text in French then English.

Pillow is imported here only, when a card is rendered (never at the app's import). The text
is set in Roboto, from the ``font-roboto`` package (Apache 2.0; Pillow's own default font has
no accented letters). Names too long for the card are shortened with an ellipsis rather than overflowing.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

WIDTH, HEIGHT, DPI = 1016, 648, 300
MARGIN = 56
INK = (20, 24, 38)
ACCENT = (142, 27, 48)
PAPER = (255, 255, 255)


@dataclass(frozen=True)
class CardFace:
    """What a card shows."""

    venue: str
    holder: str
    subscription: str
    season: str
    checkin_code: str
    logo: bytes | None = None  # PNG (:func:`logo_png`), drawn in the band at the top


LOGO_HEIGHT = 110
LOGO_MAX_BYTES = 190_000  # its base64 fits in a request (MAX_BODY_BYTES, 256 KiB)
LOGO_MAX_SIDE = 4000


def logo_png(image_base64: str) -> bytes:
    """A venue's logo as PNG, from a base64 PNG or JPEG (422 naming ``image_base64`` otherwise)."""
    import base64
    import binascii

    from PIL import Image, UnidentifiedImageError

    from chalicelib.errors import InvalidInput

    try:
        raw = base64.b64decode(image_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput.on("image_base64", "not base64") from None
    if len(raw) > LOGO_MAX_BYTES:
        raise InvalidInput.on("image_base64", f"at most {LOGO_MAX_BYTES // 1000} KB")
    try:
        image = Image.open(io.BytesIO(raw))
        if image.format not in ("PNG", "JPEG") or max(image.size) > LOGO_MAX_SIDE:
            raise InvalidInput.on("image_base64", f"a PNG or JPEG image of at most {LOGO_MAX_SIDE} pixels a side")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput.on("image_base64", "not a readable PNG or JPEG image") from None
    out = io.BytesIO()
    image.convert("RGBA").save(out, format="PNG")
    return out.getvalue()


def render(face: CardFace) -> tuple[bytes, bytes]:
    """The front and back PNGs."""
    return _front(face), _back(face)


def _canvas():
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    return image, ImageDraw.Draw(image)


def _font(size: int, *, bold: bool = False):
    from PIL import ImageFont

    return ImageFont.truetype(_font_file(bold), size=size)


def _font_file(bold: bool) -> str:
    import font_roboto

    return font_roboto.RobotoBold if bold else font_roboto.Roboto


def _fitted(draw, text: str, size: int, width: int, *, bold: bool = False) -> tuple[str, object]:
    """``text`` in a font of ``size``, shortened with an ellipsis until it fits ``width`` pixels."""
    font = _font(size, bold=bold)
    if draw.textlength(text, font=font) <= width:
        return text, font
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…", font


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()


def _front(face: CardFace) -> bytes:
    image, draw = _canvas()
    width = WIDTH - 2 * MARGIN
    draw.rectangle((0, 0, WIDTH, 150), fill=ACCENT)
    left = MARGIN + _paste_logo(image, face.logo)
    text, font = _fitted(draw, face.venue, 58, WIDTH - MARGIN - left, bold=True)
    draw.text((left, 44), text, fill=PAPER, font=font)
    rows = ((face.holder, 72, INK, 250, True), (face.subscription, 46, INK, 380, False),
            (face.season, 40, ACCENT, 450, False))
    for value, size, colour, top, bold in rows:
        text, font = _fitted(draw, value, size, width, bold=bold)
        draw.text((MARGIN, top), text, fill=colour, font=font)
    text, font = _fitted(draw, "Carte d'abonnement · Season card", 30, width)
    draw.text((MARGIN, HEIGHT - MARGIN - 30), text, fill=INK, font=font)
    return _png(image)


def _paste_logo(image, logo: bytes | None) -> int:
    """The logo scaled to the band's height at its left (transparency kept); the width it took."""
    if not logo:
        return 0
    from PIL import Image

    mark = Image.open(io.BytesIO(logo)).convert("RGBA")
    width = max(1, round(mark.width * LOGO_HEIGHT / mark.height))
    mark = mark.resize((min(width, WIDTH // 3), LOGO_HEIGHT))
    image.paste(mark, (MARGIN, (150 - LOGO_HEIGHT) // 2), mark)
    return mark.width + 24


def _back(face: CardFace) -> bytes:
    import segno
    from PIL import Image

    image, draw = _canvas()
    qr = segno.make(face.checkin_code, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=1, border=0)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    side = HEIGHT - 2 * MARGIN
    image.paste(code.resize((side, side), Image.NEAREST), (WIDTH - MARGIN - side, MARGIN))
    width = WIDTH - 3 * MARGIN - side
    lines = (("Présentez cette carte", 34), ("à l'entrée de la salle.", 34), ("", 20),
             ("Show this card", 30), ("at the door.", 30), ("", 20), (face.holder, 30))
    top = MARGIN + 20
    for value, size in lines:
        if value:
            text, font = _fitted(draw, value, size, width)
            draw.text((MARGIN, top), text, fill=INK, font=font)
        top += size + 14
    return _png(image)
