"""CP-VTON's 22-channel representation against crafted values and a reference-style build.

`reference_style` below follows the steps of the reference data loaders
(sergeywong/cp-vton and minar09/cp-vton-plus `cp_dataset.py`) with PIL and plain tensor
arithmetic, independently of the library's vectorised implementation.
"""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from vton.person.labels import NECK
from vton.person.representation import (
    HEAD_LABELS,
    Variant,
    body_shape,
    person_representation,
    pose_squares,
)

H, W = 256, 192


def _to_tensor(pil: Image.Image) -> torch.Tensor:
    """torchvision ToTensor + Normalize(0.5, 0.5), written out: (C, H, W) float32."""
    arr = torch.from_numpy(np.array(pil))
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return (arr.permute(2, 0, 1).float().div(255) - 0.5) / 0.5


def reference_style(image, parse, kp, head_labels, shape_mask, r=5):
    parse_shape = Image.fromarray((shape_mask.astype(np.float32) * 255).astype(np.uint8))
    parse_shape = parse_shape.resize((W // 16, H // 16), Image.BILINEAR)
    parse_shape = parse_shape.resize((W, H), Image.BILINEAR)
    shape = _to_tensor(parse_shape)
    parse_head = sum((parse == lab).astype(np.float32) for lab in head_labels)
    phead = torch.from_numpy(parse_head)
    im = _to_tensor(Image.fromarray(image))
    im_h = im * phead - (1 - phead)
    pose_map = torch.zeros(len(kp), H, W)
    for i in range(len(kp)):
        one_map = Image.new("L", (W, H))
        draw = ImageDraw.Draw(one_map)
        x, y = float(kp[i, 0]), float(kp[i, 1])
        if x > 1 and y > 1:
            draw.rectangle((x - r, y - r, x + r, y + r), "white", "white")
        pose_map[i] = _to_tensor(one_map)[0]
    return torch.cat([shape, im_h, pose_map], 0)


def _scene(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    parse = np.zeros((H, W), np.uint8)
    parse[20:60, 70:120] = 2  # hair
    parse[40:80, 80:110] = 13  # face
    parse[80:90, 88:102] = NECK
    parse[90:160, 50:140] = 5  # upper clothes
    parse[160:250, 60:130] = 9  # pants
    parse[200:250, 60:90] = 16  # left leg
    parse[30:40, 75:85] = 4  # sunglasses
    kp = rng.uniform(0, [W + 20, H + 20, 1], (18, 3)).astype(np.float32)
    kp[3] = 0  # undetected
    kp[4] = (1.0, 100, 1)  # x <= 1: skipped
    kp[5] = (100, 1.0, 1)  # y <= 1: skipped
    kp[6] = (1.001, 1.001, 0)  # just inside: drawn, whatever the confidence
    kp[7] = (W - 0.5, H - 0.5, 1)  # clipped at the far corner
    kp[8] = (50.999, 60.001, 1)  # truncation, not rounding
    return image, parse, kp


def test_exact_pose_squares():
    kp = np.zeros((18, 3), np.float32)
    kp[0] = (50, 60, 1)
    kp[1] = (50.7, 60.2, 1)
    kp[2] = (1, 100, 1)
    kp[3] = (100, 1, 1)
    kp[4] = (2, 2, 0)
    kp[5] = (W - 1.5, H - 1.5, 1)
    pose = pose_squares(kp, (H, W))
    assert pose.shape == (18, H, W) and pose.dtype == torch.float32
    assert set(pose.unique().tolist()) == {-1.0, 1.0}
    on = pose > 0
    assert on[0, 55:66, 45:56].all() and on[0].sum() == 121  # 11x11, centred
    assert torch.equal(on[1], on[0])  # (50.7, 60.2): corners 45.7 -> 45, 55.7 -> 55
    assert not on[2].any() and not on[3].any()  # x <= 1 or y <= 1: skipped
    assert on[4, 0:8, 0:8].all() and on[4].sum() == 64  # -3..7 clipped to 0..7
    assert on[5, H - 7 :, W - 7 :].all() and on[5].sum() == 49
    assert not on[6:].any()  # (0, 0, 0): nothing


def test_head_channels_are_rgb_inside_and_minus_one_outside():
    image, parse, kp = _scene()
    rep = person_representation(image, parse, kp, "cp-vton")
    head = rep[1:4]
    rgb = torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1
    inside = torch.from_numpy(np.isin(parse, (1, 2, 4, 13)))
    assert torch.equal(head[:, inside], rgb[:, inside])
    assert (head[:, ~inside] == -1).all()
    gmm = person_representation(image, parse, kp, Variant.CP_VTON_PLUS_GMM)[1:4]
    hair = torch.from_numpy(parse == 2)
    assert (gmm[:, hair] == -1).all()  # CP-VTON+ GMM keeps no hair
    tom = person_representation(image, parse, kp, "cp-vton+tom")[1:4]
    legs = torch.from_numpy(np.isin(parse, (9, 16)))
    assert torch.equal(tom[:, legs], rgb[:, legs])  # CP-VTON+ TOM keeps pants and legs


def test_shape_is_a_16x_blur_of_the_body_mask():
    empty, full = np.zeros((H, W), bool), np.ones((H, W), bool)
    assert (body_shape(empty) == -1).all() and (body_shape(full) == 1).all()
    half = np.zeros((H, W), bool)
    half[:, : W // 2] = True
    row = body_shape(half)[0, 128]
    assert row[0] == 1 and row[-1] == -1
    assert (row[1:] <= row[:-1]).all()  # monotone fall across the edge
    soft = ((row > -1) & (row < 1)).sum().item()
    assert 16 <= soft <= 48  # about one to three 16-px cells of blur, not a hard edge


@pytest.mark.parametrize("variant", list(Variant))
def test_equals_reference_style_computation(variant):
    image, parse, kp = _scene(seed=3)
    body = np.zeros((H, W), np.uint8)
    body[15:252, 40:150] = 255
    ours = person_representation(image, parse, kp, variant, body_mask=body)
    # CP-VTON reads image-parse, which has no neck label; CP-VTON+ reads image-mask.
    shape_mask = (parse > 0) & (parse != NECK) if variant is Variant.CP_VTON else body > 0
    ref = reference_style(image, parse, kp, HEAD_LABELS[variant], shape_mask)
    assert ours.shape == (22, H, W) and ours.dtype == torch.float32
    assert torch.equal(ours, ref)
    assert ours.min() >= -1 and ours.max() <= 1


def test_bad_inputs_raise_with_shapes():
    image, parse, kp = _scene()
    with pytest.raises(ValueError, match=r"\(18, 3\)"):
        person_representation(image, parse, kp[:17])
    with pytest.raises(ValueError, match="does not match"):
        person_representation(image, parse[:100], kp)
    with pytest.raises(ValueError, match="not a valid Variant"):
        person_representation(image, parse, kp, "viton")
