import numpy as np
import pytest

from tests.conftest import garment_spec
from vton.cloth.landmarks import garment_landmarks
from vton.cloth.masking import WhiteBackgroundMasker
from vton.cloth.normalise import normalise_garment
from vton.errors import InvalidInputError
from vton.synthetic_garments import render_garment


def _iou(a, b):
    a, b = a > 0, b > 0
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize("style,pattern,colour", [
    ("tee", "plain", (30, 60, 140)), ("tank", "text", (200, 30, 30)),
    ("tee", "stripes", (235, 235, 235)),  # light grey on white
])  # fmt: skip
def test_white_background_masker_recovers_synthetic_garments(style, pattern, colour):
    g = render_garment(garment_spec("g", style, pattern, colour))
    mask = WhiteBackgroundMasker().mask(g.image, None, "g")
    assert _iou(mask, g.mask) > 0.95


def test_alpha_plane_wins_and_all_background_is_invalid():
    rgb = np.full((50, 40, 3), 255, np.uint8)
    alpha = np.zeros((50, 40), np.uint8)
    alpha[10:40, 10:30] = 255
    assert (WhiteBackgroundMasker().mask(rgb, alpha, "g") > 0).sum() == 30 * 20
    with pytest.raises(InvalidInputError, match="all background"):
        WhiteBackgroundMasker().mask(rgb, None, "product g")


def test_normalise_centres_garment_on_white_canvas():
    g = render_garment(garment_spec("g"))
    img, mask = normalise_garment(g.image, g.mask, (256, 192))
    assert img.shape == (256, 192, 3) and mask.shape == (256, 192)
    ys, xs = np.nonzero(mask)
    assert abs((ys.min() + ys.max()) / 2 - 128) <= 2 and abs((xs.min() + xs.max()) / 2 - 96) <= 2
    assert (img[mask == 0] == 255).all()


def test_landmarks_of_a_tee_and_a_tank():
    for style in ("tee", "tank"):
        g = render_garment(garment_spec("g", style))
        _, mask = normalise_garment(g.image, g.mask, (1024, 768))
        lm = garment_landmarks(mask)
        assert lm.shoulder_left[0] < lm.neck[0] < lm.shoulder_right[0]
        assert lm.hem_left[0] < lm.hem_right[0]
        assert lm.neck[1] < lm.hem_left[1] and lm.shoulder_left[1] < 0.35 * 1024
        assert mask[int(lm.hem_left[1]), int(lm.hem_left[0])] > 0
