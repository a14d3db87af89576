"""The refund page's colours meet WCAG 2.1 AA contrast (4.5:1 for text) in every pairing the
stylesheet makes: body text, hints, links, each notice's text on its background, the button."""
from __future__ import annotations

import re

import pytest

from chalicelib.services.shared.pages import stylesheet


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rule(selector: str) -> str:
    return re.search(re.escape(selector) + r"\{([^}]*)\}", stylesheet()).group(1)


def _colour(selector: str, prop: str) -> str:
    return re.search(rf"(?:^|;){prop}:(#[0-9a-f]{{6}})", _rule(selector)).group(1)


PAGE = _colour("body", "background")
TEXT = _colour("body", "color")


@pytest.mark.parametrize("foreground, background", [
    (TEXT, PAGE),
    (_colour(".hint", "color"), PAGE),
    (_colour("a", "color"), PAGE),
    (_colour("a", "color"), _colour(".notice", "background")),
    (TEXT, _colour(".done", "background")),
    (TEXT, _colour(".closed", "background")),
    (TEXT, _colour(".staff", "background")),
    (_colour(".error", "color"), _colour(".error", "background")),
    (_colour("button", "color"), _colour("button", "background")),
])
def test_text_is_readable_on_its_background(foreground, background):
    assert contrast(foreground, background) >= 4.5, (foreground, background)
