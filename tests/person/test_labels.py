"""LIP label maps: palette, grayscale and colour files; the ATR mapping."""

import io

import numpy as np
import pytest
from PIL import Image

from vton.errors import InvalidInputError
from vton.person.labels import (
    ATR_LABELS,
    ATR_TO_LIP,
    LIP,
    LIP_LABELS,
    LIP_PALETTE,
    colorize,
    decode_labels,
    encode_labels,
    labels_to_lip,
)


def _ids() -> np.ndarray:
    return (np.arange(21 * 6, dtype=np.uint8) % 21).reshape(6, 21)


def test_lip_ids_match_the_lip_list():
    assert len(LIP_LABELS) == 20
    assert [LIP[n] for n in ("background", "hat", "hair", "glove", "sunglasses")] == [0, 1, 2, 3, 4]
    assert [LIP[n] for n in ("upper-clothes", "dress", "coat", "socks", "pants")] == [5, 6, 7, 8, 9]
    assert [LIP[n] for n in ("jumpsuits", "scarf", "skirt", "face")] == [10, 11, 12, 13]
    assert [LIP[n] for n in ("left-arm", "right-arm", "left-leg", "right-leg")] == [14, 15, 16, 17]
    assert [LIP[n] for n in ("left-shoe", "right-shoe", "neck")] == [18, 19, 20]


@pytest.mark.parametrize("palette", [False, True])
def test_encode_decode_round_trip(palette):
    ids = _ids()
    data = encode_labels(ids, palette=palette)
    img = Image.open(io.BytesIO(data))
    assert img.mode == ("P" if palette else "L")
    assert np.array_equal(np.array(img), ids)  # how CP-VTON reads image-parse files
    assert np.array_equal(decode_labels(data, "p"), ids)


def test_rgb_rendering_decodes_through_the_palette_and_strays_are_refused():
    ids = _ids()
    buf = io.BytesIO()
    Image.fromarray(colorize(ids)).save(buf, format="PNG")
    assert np.array_equal(decode_labels(buf.getvalue(), "p"), ids)
    off = colorize(ids).copy()
    off[0, 0] = (1, 2, 3)
    buf = io.BytesIO()
    Image.fromarray(off).save(buf, format="PNG")
    with pytest.raises(InvalidInputError, match="outside the LIP palette"):
        decode_labels(buf.getvalue(), "person p parse file")


def test_out_of_range_ids_and_garbage_are_invalid():
    buf = io.BytesIO()
    Image.fromarray(np.full((4, 4), 77, np.uint8)).save(buf, format="PNG")
    with pytest.raises(InvalidInputError, match="label 77"):
        decode_labels(buf.getvalue(), "p")
    with pytest.raises(InvalidInputError, match="unreadable"):
        decode_labels(b"not a png", "p")


def test_atr_maps_by_name():
    for atr_id, name in enumerate(ATR_LABELS):
        lip_id = int(ATR_TO_LIP[atr_id])
        if name in LIP:
            assert lip_id == LIP[name], name
    assert ATR_TO_LIP[ATR_LABELS.index("belt")] == LIP["pants"]
    assert ATR_TO_LIP[ATR_LABELS.index("bag")] == 0
    ids = np.array([[4, 6, 11]])
    assert labels_to_lip(ids, "atr").tolist() == [[5, 9, 13]]
    with pytest.raises(ValueError, match="ATR ids"):
        labels_to_lip(np.array([[18]]), "atr")
    with pytest.raises(ValueError, match="label_set"):
        labels_to_lip(ids, "pascal")
    assert LIP_PALETTE.shape == (21, 3)
