"""The rule-based parse on garments it must tell apart: where the top ends and the lower
garment begins, skirt or trousers, sleeve or bare arm, neck down to the neckline.

Each person is `synthetic_person` repainted in the test (exact truth: the photo is drawn
from it): a top of one colour, a lower garment of another, ending where the case needs.
"""

import cv2
import numpy as np
import pytest

from vton.person.labels import LIP, NECK
from vton.person.parsing import estimate_labels, face_ellipse
from vton.person.synthetic import SyntheticPerson, synthetic_person

SKIN = (224, 172, 140)
TOP = (40, 90, 160)
LOWER = (150, 60, 50)
LOWER_IDS = (LIP["pants"], LIP["skirt"])
ARMS = (LIP["left-arm"], LIP["right-arm"])
LEGS = (LIP["left-leg"], LIP["right-leg"])


def _geometry(sp: SyntheticPerson) -> tuple[float, float, float, float]:
    """(centre x, neck y, hip y, body unit) of a default-placed synthetic person."""
    kp = sp.keypoints
    u = 0.9 * sp.image.shape[0]
    return float(kp[1, 0]), float(kp[1, 1]), float(kp[[8, 11], 1].mean()), u


def _person(boundary: float, *, sleeves: str = "short", **colours) -> SyntheticPerson:
    """A person whose top ends `boundary` torso lengths below the neck (1.0: at the hips)
    and whose trousers start there; the torso is repainted to move the line."""
    sp = synthetic_person(sleeves=sleeves, shirt=TOP, pants=LOWER, skin=SKIN, **colours)
    img, lab = sp.image.copy(), sp.labels.copy()
    cx, neck_y, hip_y, u = _geometry(sp)
    line = round(neck_y + boundary * (hip_y - neck_y))
    rows = np.arange(img.shape[0])[:, None]
    torso = np.abs(np.arange(img.shape[1])[None, :] - cx) <= 0.135 * u
    to_lower = torso & (rows >= line) & (lab == LIP["upper-clothes"])
    to_top = torso & (rows < line) & (lab == LIP["pants"])
    img[to_lower], lab[to_lower] = LOWER, LIP["pants"]
    img[to_top], lab[to_top] = TOP, LIP["upper-clothes"]
    return SyntheticPerson(img, lab, sp.mask, sp.keypoints)


def _estimate(sp: SyntheticPerson) -> np.ndarray:
    return estimate_labels(sp.image, sp.mask, sp.keypoints, face_ellipse(sp.keypoints))


def _boundary(lab: np.ndarray, sp: SyntheticPerson) -> float:
    """Median over the torso's central columns of the first lower-garment row below the
    neck."""
    cx, neck_y, _, u = _geometry(sp)
    firsts = []
    for x in range(round(cx - 0.08 * u), round(cx + 0.08 * u) + 1):
        below = np.nonzero(np.isin(lab[round(neck_y) :, x], LOWER_IDS))[0]
        if len(below):
            firsts.append(below[0] + round(neck_y))
    assert len(firsts) > 0.8 * (0.16 * u), "no lower garment found in the torso"
    return float(np.median(firsts))


@pytest.mark.parametrize("boundary", [0.62, 0.75, 1.2])
def test_top_and_lower_garment_meet_where_the_clothes_change(boundary):
    # A high-waisted lower garment (0.62, 0.75 torso lengths below the neck) or a top worn
    # over the hips (1.2): the line is where the colours change, not at the hip keypoints.
    sp = _person(boundary)
    est = _estimate(sp)
    _, neck_y, hip_y, _ = _geometry(sp)
    length = hip_y - neck_y
    assert abs(_boundary(est, sp) - _boundary(sp.labels, sp)) <= 0.03 * length
    assert np.array_equal(est > 0, sp.mask > 0)
    for name in ("upper-clothes", "pants"):
        inter = ((est == LIP[name]) & (sp.labels == LIP[name])).sum()
        union = ((est == LIP[name]) | (sp.labels == LIP[name])).sum()
        assert inter / union >= 0.85, name


def test_one_garment_from_chest_to_legs_falls_back_to_the_hips():
    # No change of colour in the torso (a dress, a jumpsuit): the hip line, as before.
    sp = synthetic_person(shirt=TOP, pants=TOP)
    est = _estimate(sp)
    _, _, hip_y, _ = _geometry(sp)
    assert abs(_boundary(est, sp) - hip_y) <= 1.5


def test_bare_midriff_between_a_crop_top_and_trousers_is_skin():
    sp = _person(0.82)
    img, lab = sp.image.copy(), sp.labels.copy()
    cx, neck_y, hip_y, u = _geometry(sp)
    length = hip_y - neck_y
    rows = np.arange(img.shape[0])[:, None]
    band = (rows >= neck_y + 0.66 * length) & (rows < neck_y + 0.82 * length)
    band = band & (lab == LIP["upper-clothes"])
    band &= np.abs(np.arange(img.shape[1])[None, :] - cx) <= 0.135 * u
    img[band], lab[band] = SKIN, NECK
    est = _estimate(SyntheticPerson(img, lab, sp.mask, sp.keypoints))
    assert (est[band] == NECK).mean() >= 0.9
    # The crop top above it is still the top, the trousers below still the trousers.
    top = (lab == LIP["upper-clothes"]) & (rows > neck_y + 0.2 * length)
    assert (est[top] == LIP["upper-clothes"]).mean() >= 0.9
    trousers = lab == LIP["pants"]
    assert (est[trousers] == LIP["pants"]).mean() >= 0.9


def _skirt_person() -> tuple[SyntheticPerson, np.ndarray]:
    """A top, a skirt from the hips to mid-thigh, bare legs below it; and the skirt."""
    sp = _person(1.0)
    img, lab = sp.image.copy(), sp.labels.copy()
    cx, neck_y, hip_y, u = _geometry(sp)
    rows = np.arange(img.shape[0])[:, None]
    xs = np.arange(img.shape[1])[None, :]
    hem = hip_y + 0.45 * (hip_y - neck_y)
    legs = lab == LIP["pants"]
    skirt = (rows >= hip_y) & (rows < hem) & (np.abs(xs - cx) <= 0.12 * u + 0.3 * (rows - hip_y))
    skirt &= (lab == LIP["pants"]) | (lab == 0)
    side = np.broadcast_to(np.where(xs < cx, LIP["right-leg"], LIP["left-leg"]), lab.shape)
    img[legs], lab[legs] = SKIN, side[legs]
    img[skirt], lab[skirt] = LOWER, LIP["skirt"]
    mask = np.where(lab > 0, 255, 0).astype(np.uint8)
    return SyntheticPerson(img, lab, mask, sp.keypoints), skirt


def test_skirt_is_told_from_trousers_by_the_legs_below_it():
    sp, skirt = _skirt_person()
    est = _estimate(sp)
    assert (est[skirt] == LIP["skirt"]).mean() >= 0.85
    legs = np.isin(sp.labels, LEGS)
    assert np.isin(est[legs], LEGS).mean() >= 0.85
    # Trousers (legs apart inside them) stay pants.
    trousers = _person(1.0)
    est = _estimate(trousers)
    assert (est[trousers.labels == LIP["pants"]] == LIP["pants"]).mean() >= 0.85
    assert not (est == LIP["skirt"]).any()


DARK = (108, 58, 35)  # YCrCb ~ (70, 155, 108): the face's chroma, a third of its light
SHADE = tuple(round(0.6 * c) for c in SKIN)


@pytest.mark.parametrize(("sleeve", "forearm"), [(DARK, "upper-clothes"), (SHADE, "arm")])
def test_dark_sleeve_of_skin_hue_is_sleeve_and_shaded_bare_forearm_is_arm(sleeve, forearm):
    # A sleeve with the face's chroma but far darker (a sheer black sleeve over skin):
    # chroma alone calls it skin. A bare forearm in shade (60 % of the face's light): it
    # is still skin.
    sp = synthetic_person(sleeves="long", shirt=TOP, pants=LOWER, skin=SKIN)
    img, lab = sp.image.copy(), sp.labels.copy()
    kp = sp.keypoints
    # The forearms (the long sleeves from just below the elbow to the wrist) in the
    # test colour.
    fore = np.zeros(lab.shape, bool)
    yy, xx = np.mgrid[: lab.shape[0], : lab.shape[1]]
    for el, wr in ((3, 4), (6, 7)):
        p, q = kp[el, :2], kp[wr, :2]
        d = q - p
        t = ((xx - p[0]) * d[0] + (yy - p[1]) * d[1]) / float(d @ d)
        off = np.hypot(xx - p[0] - t * d[0], yy - p[1] - t * d[1])
        fore |= (t >= 0.1) & (t <= 1.0) & (off <= 0.03 * 0.9 * lab.shape[0])
    fore &= lab == LIP["upper-clothes"]
    img[fore] = sleeve
    est = _estimate(SyntheticPerson(img, lab, sp.mask, kp))
    if forearm == "arm":
        assert np.isin(est[fore], ARMS).mean() >= 0.9
    else:
        assert (est[fore] == LIP["upper-clothes"]).mean() >= 0.9
    hands = np.isin(sp.labels, ARMS)  # the hands stay bare
    assert np.isin(est[hands], ARMS).mean() >= 0.8


def test_print_with_skin_coloured_stripes_is_not_legs():
    sp = synthetic_person(shirt=TOP, pants=LOWER, skin=SKIN)
    img = sp.image.copy()
    pants = sp.labels == LIP["pants"]
    stripes = pants & ((np.arange(img.shape[0]) % 10) < 4)[:, None]
    img[stripes] = SKIN  # 40 % of the trousers' rows: a print, not bare legs
    est = _estimate(SyntheticPerson(img, sp.labels, sp.mask, sp.keypoints))
    assert not np.isin(est[pants], LEGS).any()
    assert (est[pants] == LIP["pants"]).mean() >= 0.9


def test_neck_runs_from_the_chin_down_to_a_low_neckline():
    sp = synthetic_person(shirt=TOP, pants=LOWER, skin=SKIN)
    img, lab = sp.image.copy(), sp.labels.copy()
    cx, neck_y, hip_y, u = _geometry(sp)
    rows = np.arange(img.shape[0])[:, None]
    xs = np.arange(img.shape[1])[None, :]
    # A scoop neckline: skin 0.1 body units below the shoulder line, narrowing down.
    depth = 0.1 * u
    scoop = (rows >= neck_y - 2) & (rows < neck_y + depth) & (xs >= 0)
    scoop &= np.abs(xs - cx) <= 0.07 * u * np.sqrt(np.clip(1 - (rows - neck_y) / depth, 0, 1))
    scoop &= lab == LIP["upper-clothes"]
    img[scoop], lab[scoop] = SKIN, NECK
    est = _estimate(SyntheticPerson(img, lab, sp.mask, sp.keypoints))
    truth = lab == NECK
    assert ((est == NECK) & truth).sum() / ((est == NECK) | truth).sum() >= 0.7
    assert (est[scoop] == NECK).mean() >= 0.85  # the lower part too, below the shoulders
    # The neckline stops it: the shirt below is the shirt.
    shirt = (lab == LIP["upper-clothes"]) & (rows > neck_y + depth) & (rows < hip_y - 10)
    assert (est[shirt] == LIP["upper-clothes"]).mean() >= 0.95
    # Between face and neckline: every neck pixel lies below the face.
    face_bottom = np.nonzero(est == LIP["face"])[0].max()
    assert np.nonzero(est == NECK)[0].min() >= face_bottom - 2


def test_hair_falling_over_the_shoulders_is_hair():
    hair = (70, 45, 30)
    sp = synthetic_person(shirt=TOP, pants=LOWER, skin=SKIN, hair=hair)
    img, lab = sp.image.copy(), sp.labels.copy()
    cx, neck_y, _, u = _geometry(sp)
    rows = np.arange(img.shape[0])[:, None]
    off = np.abs(np.arange(img.shape[1])[None, :] - cx)
    # Two locks from the sides of the head down over the neck and shoulders.
    locks = (rows >= neck_y - 0.14 * u) & (rows < neck_y + 0.07 * u)
    locks = locks & (off >= 0.03 * u) & (off <= 0.06 * u) & (lab != LIP["face"])
    img[locks], lab[locks] = hair, LIP["hair"]
    mask = np.where(lab > 0, 255, 0).astype(np.uint8)
    est = _estimate(SyntheticPerson(img, lab, mask, sp.keypoints))
    face_bottom = np.nonzero(est == LIP["face"])[0].max()
    below_chin = locks & (rows > face_bottom + 2)
    assert below_chin.sum() > 100
    assert (est[below_chin] == LIP["hair"]).mean() >= 0.85
    # The shirt around them is still the shirt.
    shirt = (lab == LIP["upper-clothes"]) & (rows < neck_y + 0.1 * u)
    assert (est[shirt] == LIP["upper-clothes"]).mean() >= 0.9


def test_lighter_hair_tips_beside_the_neck_above_the_shoulders_are_hair():
    # Locks whose tips are lighter than the hair (sunlit, dyed) and than nothing else: the
    # colour test misses them, and left "top" a try-on would paint them as backdrop.
    hair, tips = (70, 45, 30), (196, 168, 120)
    sp = synthetic_person(shirt=TOP, pants=LOWER, skin=SKIN, hair=hair)
    img, lab = sp.image.copy(), sp.labels.copy()
    cx, neck_y, _, u = _geometry(sp)
    kp = sp.keypoints
    sw = float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    rows = np.arange(img.shape[0])[:, None]
    off = np.abs(np.arange(img.shape[1])[None, :] - cx)
    face = lab == LIP["face"]
    face_bottom = np.nonzero(face)[0].max()
    lock = (rows >= neck_y - 0.14 * u) & (rows < kp[2, 1] - 0.21 * sw)
    lock = lock & (off >= 0.3 * sw) & (off <= 0.42 * sw) & ~face
    tip = lock & (rows > face_bottom)
    img[lock], lab[lock] = hair, LIP["hair"]
    img[tip] = tips
    mask = np.where(lab > 0, 255, 0).astype(np.uint8)
    est = _estimate(SyntheticPerson(img, lab, mask, kp))
    assert tip.sum() > 30
    assert (est[tip] == LIP["upper-clothes"]).mean() <= 0.1
    assert (est[tip] == LIP["hair"]).mean() >= 0.8
    # The shirt on the shoulders is still the shirt.
    shirt = (lab == LIP["upper-clothes"]) & (rows < neck_y + 0.1 * u)
    assert (est[shirt] == LIP["upper-clothes"]).mean() >= 0.9


def test_rim_of_a_bare_arm_blended_with_a_light_backdrop_is_arm():
    # A white top on a white backdrop, bare arms whose outline is a third skin, the rest
    # backdrop (a photo's anti-aliasing and light wrap): no skin test takes the rim, and
    # left as "top" it would be removed as an old sleeve by a try-on.
    white = (245, 245, 245)
    sp = synthetic_person(sleeves="short", shirt=(250, 250, 250), pants=LOWER, skin=SKIN,
                          background=white)  # fmt: skip
    img, lab = sp.image.copy(), sp.labels.copy()
    arms = np.isin(lab, ARMS)
    inner = cv2.erode(arms.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    rim = arms & ~inner & (sp.mask > 0)
    img[rim] = (0.3 * np.array(SKIN) + 0.7 * np.array(white)).astype(np.uint8)
    est = _estimate(SyntheticPerson(img, lab, sp.mask, sp.keypoints))
    # the rim along the forearms (below the sleeves), not next to the torso
    kp = sp.keypoints
    fore = np.zeros(lab.shape, bool)
    for el in (3, 6):
        fore[round(kp[el, 1]) :, :] = True
    rim_fore = rim & fore & ~np.isin(sp.labels, (LIP["upper-clothes"],))
    assert rim_fore.sum() > 50
    assert np.isin(est[rim_fore], ARMS).mean() >= 0.8
    # and the top's own outline stays top
    top_rim = (sp.labels == LIP["upper-clothes"]) & ~cv2.erode(
        (sp.mask > 0).astype(np.uint8), np.ones((5, 5), np.uint8)
    ).astype(bool)
    assert (est[top_rim] == LIP["upper-clothes"]).mean() >= 0.8


def test_rim_of_the_neck_blended_with_a_light_backdrop_is_neck():
    # The neck's outline against a white backdrop is a blend no skin test takes: left
    # "top" above the shoulders, a try-on removed it and left a jagged edge down the side
    # of the neck. The shirt's own outline on the shoulders stays the shirt's.
    white = (245, 245, 245)
    sp = synthetic_person(sleeves="short", shirt=TOP, pants=LOWER, skin=SKIN, background=white)
    img, lab = sp.image.copy(), sp.labels.copy()
    neck = lab == NECK
    assert neck.sum() > 200
    inner = cv2.erode((sp.mask > 0).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    rows = np.arange(lab.shape[0])[:, None]
    kp = sp.keypoints
    rim = neck & ~inner & (sp.mask > 0) & (rows < kp[1, 1] - 3)  # along the outline
    rim &= ~cv2.dilate((lab == LIP["face"]).astype(np.uint8), np.ones((5, 5))).astype(bool)
    # (where the neck meets the shirt's collar the two rims are one: left out)
    shirt = (lab == LIP["upper-clothes"]).astype(np.uint8)
    rim &= ~cv2.dilate(shirt, np.ones((15, 15), np.uint8)).astype(bool)
    img[rim] = (0.3 * np.array(SKIN) + 0.7 * np.array(white)).astype(np.uint8)
    est = _estimate(SyntheticPerson(img, lab, sp.mask, sp.keypoints))
    assert rim.sum() > 30
    assert (est[rim] == LIP["upper-clothes"]).mean() <= 0.1, (
        est[rim] == LIP["upper-clothes"]
    ).mean()
    assert (est[rim] == NECK).mean() >= 0.8
    top_rim = (
        (lab == LIP["upper-clothes"])
        & ~cv2.erode((sp.mask > 0).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        & (rows < kp[1, 1] + 0.1 * sp.image.shape[0])
    )
    assert top_rim.sum() > 30
    assert (est[top_rim] == LIP["upper-clothes"]).mean() >= 0.8
