"""The 256x192 frame: images, label maps and keypoints placed identically."""

import numpy as np
import pytest

from vton.person.frame import Frame


@pytest.mark.parametrize(("h", "w"), [(1024, 768), (512, 512), (1024, 683), (100, 300), (64, 48)])
def test_fit_is_centred_and_inside(h, w):
    fr = Frame.fit(h, w)
    assert fr.th <= 256 and fr.tw <= 192 and (fr.th == 256 or fr.tw == 192)
    assert fr.ox == (192 - fr.tw) // 2 and fr.oy == (256 - fr.th) // 2
    sx, sy = fr.scale
    assert abs(sx - sy) / sy < 0.01  # aspect ratio kept up to whole-pixel rounding


def test_keypoints_land_on_the_same_pixels_as_the_image():
    h, w = 700, 300  # tall: bars left and right
    rgb = np.full((h, w, 3), 128, np.uint8)
    ids = np.zeros((h, w), np.uint8)
    kp = np.zeros((18, 3), np.float32)
    for i, (x, y) in enumerate([(40, 60), (250, 400), (150, 650)]):
        rgb[y - 8 : y + 8, x - 8 : x + 8] = (255, 0, 0)
        ids[y - 8 : y + 8, x - 8 : x + 8] = 5
        kp[i] = (x, y, 1)  # the centre of the 16x16 block, in continuous coordinates
    fr = Frame.fit(h, w)
    img, lab, pts = fr.image(rgb), fr.labels(ids), fr.points(kp)
    assert img.shape == (256, 192, 3) and lab.shape == (256, 192)
    assert (img[:, : fr.ox] == 255).all() and (lab[:, : fr.ox] == 0).all()  # white bars
    for x, y, _ in pts[:3]:
        ys, xs = np.nonzero(lab[int(y) - 6 : int(y) + 7, int(x) - 6 : int(x) + 7] == 5)
        cy, cx = ys.mean() + int(y) - 6 + 0.5, xs.mean() + int(x) - 6 + 0.5
        assert abs(cx - x) < 0.6 and abs(cy - y) < 0.6
        assert img[int(y), int(x), 0] > 200 and img[int(y), int(x), 1] < 60
    assert (pts[3:] == 0).all()  # undetected stay (0, 0, 0)


def test_mask_stays_binary_and_bad_sizes_raise():
    fr = Frame.fit(300, 200)
    m = np.zeros((300, 200), np.uint8)
    m[50:250, 40:160] = 255
    out = fr.mask(m)
    assert set(np.unique(out)) <= {0, 255}
    with pytest.raises(ValueError, match="300x200"):
        fr.image(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="positive"):
        Frame.fit(0, 10)
