"""Studio-like training examples: compositing, silhouette features, sleeveless cuts, the mask
cache, and the training path that uses them (tiny, synthetic, end to end; calibration)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vton.catalog import CATEGORIES, SLEEVES
from vton.cloth import classifier_cnn
from vton.cloth.classifier_cnn import (
    GarmentNet,
    _calibrate,
    _epoch_rows,
    _Examples,
    _Rows,
    load_classifier,
    sleeve_set,
    train_from_folder,
)
from vton.cloth.studio import (
    COMPOSITE_SIZE,
    N_SILHOUETTE,
    SLEEVELESS_STYLES,
    MaskCache,
    composite_rng,
    cut_sleeves,
    masker_fingerprint,
    silhouette_vector,
    studio_composite,
)
from vton.cloth.synthetic_hard import render_hard
from vton.imageio import encode_image


def _tee_mask(h: int = 300, w: int = 300, sleeves: bool = True) -> np.ndarray:
    """A flat-lay tee: body 120 px wide from y=40 to 280, sleeves out to 40 px from the
    sides between y=40 and 110 (none with `sleeves=False`)."""
    m = np.zeros((h, w), np.uint8)
    m[40:280, 90:210] = 255
    if sleeves:
        m[40:110, 40:260] = 255
    cv2.ellipse(m, (150, 40), (25, 15), 0, 0, 180, 0, -1)  # neckline dip
    return m


def _trouser_mask() -> np.ndarray:
    m = np.zeros((320, 200), np.uint8)
    m[20:120, 50:150] = 255
    m[120:300, 50:95] = 255
    m[120:300, 105:150] = 255
    return m


def _photo(mask: np.ndarray, colour=(200, 40, 40)) -> np.ndarray:
    """A flat-lay-like photo: a textured brown floor, the garment in a flat colour."""
    rng = np.random.default_rng(0)
    img = (rng.normal(110, 25, (*mask.shape, 3))).clip(0, 255).astype(np.uint8)
    img[mask > 0] = colour
    return img


# -------------------------------------------------------------------------------------------
# Compositing
# -------------------------------------------------------------------------------------------


def test_composite_is_deterministic_centred_and_on_a_light_backdrop():
    mask = _tee_mask()
    photo = _photo(mask)
    a = studio_composite(photo, mask, composite_rng(0, "tee/1.jpg", 0))
    b = studio_composite(photo, mask, composite_rng(0, "tee/1.jpg", 0))
    c = studio_composite(photo, mask, composite_rng(0, "tee/1.jpg", 1))
    d = studio_composite(photo, mask, composite_rng(1, "tee/1.jpg", 0))
    assert a.image.shape == (*COMPOSITE_SIZE, 3) and a.image.dtype == np.uint8
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image) and not np.array_equal(a.image, d.image)
    for comp in (a, c, d):
        ys, xs = np.nonzero(comp.mask)
        gh, gw = np.ptp(ys) + 1, np.ptp(xs) + 1
        h, w = COMPOSITE_SIZE
        # Fills 70-92 % of the height, or is limited by the width (a wide garment).
        assert 0.68 * h <= gh <= 0.93 * h or 0.78 * w <= gw <= 0.93 * w, (gh, gw)
        cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
        assert abs(cy - h / 2) <= 0.05 * h and abs(cx - w / 2) <= 0.05 * w
        # The floor is gone: the backdrop is light and nearly neutral (shadows soft).
        bg = comp.image[comp.mask == 0].astype(float)
        assert np.percentile(bg.mean(1), 5) > 170
        assert np.abs(bg - bg.mean(1, keepdims=True)).mean() < 6
        # The garment keeps its colour inside.
        inner = cv2.erode(comp.mask, np.ones((5, 5), np.uint8)) > 0
        assert np.abs(comp.image[inner].astype(float) - (200, 40, 40)).mean() < 8
    with pytest.raises(ValueError, match="empty mask"):
        studio_composite(photo, np.zeros_like(mask), composite_rng(0, "x", 0))


# -------------------------------------------------------------------------------------------
# Silhouette features
# -------------------------------------------------------------------------------------------


def test_silhouette_vector_is_mirror_and_scale_invariant_and_zero_without_a_mask():
    assert not silhouette_vector(None).any() and silhouette_vector(None).shape == (N_SILHOUETTE,)
    assert not silhouette_vector(np.zeros((50, 50), np.uint8)).any()
    tee = _tee_mask()
    tee[60:100, 40:70] = 0  # lopsided: one sleeve shorter
    v = silhouette_vector(tee)
    assert v.dtype == np.float32 and v[0] == 1.0 and np.abs(v).max() <= 2.0
    np.testing.assert_allclose(silhouette_vector(tee[:, ::-1].copy()), v, atol=0.03)
    big = cv2.resize(tee, (900, 900), interpolation=cv2.INTER_NEAREST)
    padded = np.zeros((1400, 1200), np.uint8)
    padded[300:1200, 100:1000] = big
    np.testing.assert_allclose(silhouette_vector(padded), v, atol=0.05)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        silhouette_vector(np.zeros((5, 5, 3), np.uint8))


def test_silhouette_vector_tells_trouser_legs_sleeves_and_their_absence():
    n_y = 12
    ext = slice(3, 3 + n_y)
    centre = slice(3 + n_y, 3 + 2 * n_y)
    tee, tank, pants = (
        silhouette_vector(_tee_mask()),
        silhouette_vector(_tee_mask(sleeves=False)),
        silhouette_vector(_trouser_mask()),
    )
    # Trousers: the centre column is empty low down (between the legs), a top's is not.
    assert pants[centre][-4:].max() < 0.5 and tee[centre][-4:].min() > 0.5
    # Sleeves: a tee is much wider near the top than low down; a tank is not.
    assert tee[ext][1] > 1.5 * tee[ext][-2] and tank[ext][1] == pytest.approx(tank[ext][-2])
    assert tee[-2] > tank[-2] + 0.3  # reach beyond the lower body (log ratio)


# -------------------------------------------------------------------------------------------
# Sleeveless derivation
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", SLEEVELESS_STYLES)
@pytest.mark.parametrize("seed", range(4))
def test_cut_sleeves_removes_the_sleeves_and_keeps_the_body(seed, style):
    tee = _tee_mask()
    cut = cut_sleeves(tee, np.random.default_rng(seed), "top", style=style, crop=False)
    assert cut is not None and cut.dtype == np.uint8 and set(np.unique(cut)) <= {0, 255}
    assert not (cut > 0)[:, :90].any() and not (cut > 0)[:, 211:].any()  # no sleeve left
    assert (cut[200:280] == tee[200:280]).all()  # the lower body untouched
    assert ((cut > 0) <= (tee > 0)).all()  # only removes
    # The armhole narrows towards the shoulder: the strap is narrower than the body.
    top_row = np.flatnonzero(cut[45] > 0)
    assert np.ptp(top_row) < 120
    # The cut garment reads as sleeveless to the silhouette features, like a tank.
    v, tank = silhouette_vector(cut), silhouette_vector(_tee_mask(sleeves=False))
    assert v[-2] < silhouette_vector(tee)[-2] - 0.3 and abs(v[-2] - tank[-2]) < 0.15


@pytest.mark.parametrize("seed", range(4))
def test_a_cami_is_two_thin_straps_over_a_top_edge_at_the_bust(seed):
    tee = _tee_mask()
    cut = cut_sleeves(tee, np.random.default_rng(seed), "top", style="cami", crop=False) > 0
    # near the top (the tee's shoulders) only the two straps: two narrow runs, one each
    # side of the centre, nothing at the neck's centre
    for y in (45, 55):
        d = np.diff(np.concatenate([[0], cut[y].astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        assert len(starts) == 2, y
        assert starts[0] < 150 < starts[1]
        assert ((ends - starts) <= 0.07 * 120 + 1).all()  # 3-7 % of the 120 px torso
    # the body's top edge lies at the bust, near the armpit (28-40 % down: y 107-136)
    body_top = np.flatnonzero(cut[:, 100])[0]
    assert 100 <= body_top <= 150
    assert (cut[200:280] == (tee[200:280] > 0)).all()  # the lower body untouched


def test_a_cropped_cut_ends_above_the_hem():
    tee = _tee_mask()
    for style in SLEEVELESS_STYLES:
        cut = cut_sleeves(tee, np.random.default_rng(0), "top", style=style, crop=True) > 0
        hem = np.flatnonzero(cut[:, 150])[-1]
        assert 40 + 0.55 * 240 - 2 <= hem <= 40 + 0.75 * 240 + 1, style


def test_derived_styles_are_drawn_from_the_generator():
    """Left to the generator, both styles and some crops come out, and the same seed
    gives the same cut (the training set is reproducible)."""
    tee = _tee_mask()
    cuts = [cut_sleeves(tee, np.random.default_rng(s), "top") for s in range(24)]
    bodies = {int(np.flatnonzero(c[:, 150])[0] > 100) for c in cuts}  # cami: body at bust
    assert bodies == {0, 1}
    assert any(np.flatnonzero(c[:, 150])[-1] < 270 for c in cuts)  # some cropped
    assert all(np.flatnonzero(c[:, 150])[-1] < 270 or (c[200:280] == tee[200:280]).all()
               for c in cuts)  # fmt: skip
    again = cut_sleeves(tee, np.random.default_rng(5), "top")
    assert (again == cuts[5]).all()


def test_cut_sleeves_refuses_garments_without_sleeves_and_unknown_kinds():
    rng = np.random.default_rng(0)
    for style in SLEEVELESS_STYLES:  # nothing to cut
        assert cut_sleeves(_tee_mask(sleeves=False), rng, "top", style=style) is None
    assert cut_sleeves(np.zeros((100, 100), np.uint8), rng, "top") is None
    with pytest.raises(ValueError, match="kind"):
        cut_sleeves(_tee_mask(), rng, "pants")
    with pytest.raises(ValueError, match="style"):
        cut_sleeves(_tee_mask(), rng, "top", style="bandeau")


def _dress_mask() -> np.ndarray:
    m = np.zeros((400, 300), np.uint8)
    m[30:90, 40:260] = 255  # short sleeves
    m[30:180, 110:190] = 255  # bodice, waist 80 px wide
    pts = np.array([[110, 180], [190, 180], [260, 390], [40, 390]], np.int32)
    cv2.fillPoly(m, [pts], 255)  # flared skirt
    return m


def test_a_sleeveless_dress_is_not_derived_again():
    """A cami's top edge takes the upper chest off any garment: only sleeves outside the
    torso show that there were sleeves to cut (the training labels a cut dress sleeved)."""
    m = _dress_mask()
    m[30:90, :110] = 0
    m[30:90, 190:] = 0  # a sleeveless dress: nothing beside the bodice
    for style in SLEEVELESS_STYLES:
        assert cut_sleeves(m, np.random.default_rng(0), "dress", style=style) is None


def test_cut_sleeves_of_a_dress_keeps_the_skirt():
    m = _dress_mask()
    cut = cut_sleeves(m, np.random.default_rng(0), "dress")
    assert cut is not None
    assert (cut[250:] == m[250:]).all()  # the skirt, wider than the waist, stays
    assert not (cut[30:90] > 0)[:, :100].any()  # the sleeves are gone


# -------------------------------------------------------------------------------------------
# Mask cache
# -------------------------------------------------------------------------------------------


class _CountingMasker:
    id = "counting-v1"

    def __init__(self) -> None:
        self.calls = 0

    def mask(self, rgb, alpha, item):
        self.calls += 1
        if rgb.mean() > 250:
            from vton.errors import InvalidInputError

            raise InvalidInputError(item, "no garment")
        return ((rgb[:, :, 0] > 150) * 255).astype(np.uint8)


def test_mask_cache_keeps_masks_by_content_and_masker(tmp_path):
    photo = _photo(_tee_mask(120, 120))
    data = encode_image(photo)
    masker = _CountingMasker()
    cache = MaskCache(masker, tmp_path)
    m1, c1 = cache.get(data, "a")
    m2, c2 = MaskCache(masker, tmp_path).get(data, "a again")  # a new process, same dir
    assert masker.calls == 1 and np.array_equal(m1, m2) and c1 == c2 == 1.0
    assert m1.dtype == np.uint8 and m1.shape == photo.shape[:2]
    assert not list(tmp_path.rglob(".tmp-*"))  # written atomically
    blank = encode_image(np.full((40, 40, 3), 255, np.uint8))
    assert cache.get(blank, "blank") == (None, 0.0)
    assert MaskCache(masker, tmp_path).get(blank, "blank") == (None, 0.0)
    assert masker.calls == 2
    other = _CountingMasker()
    other.id = "counting-v2"
    assert masker_fingerprint(other) != masker_fingerprint(masker)
    MaskCache(other, tmp_path).get(data, "a")
    assert other.calls == 1  # another masker version never reuses the old masks
    MaskCache(masker, None).get(data, "a")
    assert masker.calls == 3  # no directory: nothing kept


# -------------------------------------------------------------------------------------------
# Training path
# -------------------------------------------------------------------------------------------


def test_sleeve_sets():
    assert sleeve_set(None) == (True, True, True)
    assert sleeve_set("short") == tuple(s == "short" for s in SLEEVES)
    assert sleeve_set("short|long") == tuple(s != "sleeveless" for s in SLEEVES)
    with pytest.raises(ValueError, match="unknown sleeve"):
        sleeve_set("capped")


def test_an_epoch_shows_every_garment_once_and_a_share_of_the_derived_ones():
    # Garment 0: photo + 2 studio shots; 1: photo only; 2-7: derived (studio shots only).
    group = torch.tensor([0, 0, 0, 1, *[g for g in range(2, 8) for _ in range(2)]])
    studio = torch.zeros(len(group), dtype=torch.bool)
    studio[[1, 2]] = True
    studio[4:] = True
    n = len(group)
    data = _Examples(
        torch.zeros(n, 3, 4, 4, dtype=torch.uint8), torch.zeros(n, dtype=torch.long),
        torch.ones(n, 3, dtype=torch.bool), torch.zeros(n, dtype=torch.long),
        torch.zeros(n, 0), group, studio,
    )  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    picks = [_epoch_rows(data, gen).tolist() for _ in range(400)]
    k = round(classifier_cnn._P_DERIVED * 6)
    assert classifier_cnn._epoch_size(data) == 2 + k
    for rows in picks:
        shown = group[rows].tolist()
        assert len(shown) == len(set(shown)) == 2 + k  # each garment at most once
        assert {0, 1} <= set(shown)  # every photographed garment, every epoch
    flat_share = np.mean([int(0 in r) for r in picks])
    assert 0.4 < flat_share < 0.6  # garment 0: its photo about half the time
    assert all(3 in r for r in picks)  # garment 1 has only its photo
    assert {1, 2} <= {i for r in picks for i in r}  # both studio shots of garment 0 used
    derived_seen = {g for r in picks for g in group[r].tolist() if g >= 2}
    assert derived_seen == set(range(2, 8))  # over epochs every derived garment is used


def test_a_garment_gives_its_photo_studio_shots_and_a_derived_sleeveless_one():
    """A dress of unknown sleeve length whose sleeves can be cut: its rows are labelled
    short-or-long, the derived garment's rows sleeveless, all in one split (same key)."""
    mask = _dress_mask()
    rows = _Rows(variants=2, seed=0, silhouette=True)
    dress = CATEGORIES.index("dress")
    rows.add_garment("dress/1.jpg", _photo(mask), mask, 0.9, dress, sleeve_set(None), 0, "dress")
    rows.add_garment("dress/2.jpg", _photo(mask), mask, 0.2, dress, sleeve_set(None), 0, "dress")
    ex = rows.examples()
    assert ex.group.tolist() == [0, 0, 0, 1, 1, 2] and rows.split_keys[1] == "dress/1.jpg"
    assert ex.studio.tolist() == [False, True, True, True, True, False]
    assert [tuple(v) for v in ex.sleeve.tolist()] == [sleeve_set("short|long")] * 3 + [
        sleeve_set("sleeveless")
    ] * 2 + [sleeve_set(None)]  # the untrusted mask (0.2): photo only, label unknown
    assert ex.x.shape == (6, 3, 112, 84) and ex.sil.shape == (6, N_SILHOUETTE)
    assert (rows.n_composited, rows.n_sleeveless) == (1, 1)


def test_calibration_cools_an_overconfident_model():
    torch.manual_seed(0)
    model = GarmentNet(width=4, n_silhouette=N_SILHOUETTE).eval()
    with torch.no_grad():  # random features, huge logits: confidently wrong half the time
        model.category_head.weight.mul_(300)
        model.sleeve_head.weight.mul_(300)
    n = 64
    gen = torch.Generator().manual_seed(1)
    val = _Examples(
        torch.randint(0, 256, (n, 3, 112, 84), dtype=torch.uint8, generator=gen),
        torch.randint(0, len(CATEGORIES), (n,), generator=gen),
        torch.nn.functional.one_hot(torch.randint(0, 3, (n,), generator=gen), 3).bool(),
        torch.full((n,), -100), torch.zeros(n, N_SILHOUETTE), torch.arange(n),
        torch.zeros(n, dtype=torch.bool),
    )  # fmt: skip
    meta = {"silhouette_features": N_SILHOUETTE}
    cal = _calibrate(model, meta, val)
    c = cal["calibration"]
    assert cal["category_temperature"] > 1.5 and cal["sleeve_temperature"] > 1.5
    assert c["category_nll_after"] < c["category_nll_before"]
    assert c["sleeve_nll_after"] < c["sleeve_nll_before"]
    assert 0.0 <= c["flagged_share"] <= 1.0 and c["flag_threshold"] == 0.6


KINDS = {"t-shirt": "tee", "dress": "dress", "pants": "pants"}


@pytest.fixture(scope="module")
def studio_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio-folder")
    for cls, kind in KINDS.items():
        (root / cls).mkdir()
        for i in range(4):
            s = render_hard(300 + 11 * i + len(kind), long_side=160, kind=kind)
            (root / cls / f"{i}.png").write_bytes(encode_image(s.image))
    out = tmp_path_factory.mktemp("studio-model") / "g.pt"
    lines: list[str] = []
    report = train_from_folder(
        root, out, val_folder=root, epochs=2, batch_size=4, width=4, num_threads=1, seed=3,
        mask_cache=tmp_path_factory.mktemp("masks"), log=lines.append,
    )  # fmt: skip
    return root, report, lines


def test_training_composites_derives_sleeveless_and_calibrates(studio_model, tmp_path):
    root, report, lines = studio_model
    meta = json.loads(Path(report.meta_path).read_text())
    assert meta["version"] == 3 and meta["silhouette_features"] == N_SILHOUETTE
    assert meta["studio_variants"] == 2 and meta["n_train_composited"] >= 6
    assert meta["n_train_sleeveless"] >= 1 and meta["sleeveless_from"]["t-shirt"] == "top"
    assert report.n_train == 12 + meta["n_train_sleeveless"]
    assert meta["n_train_rows"] == 12 + 2 * (
        meta["n_train_composited"] + meta["n_train_sleeveless"]
    )
    assert meta["masker"].startswith("classical-")
    assert set(meta["val_by_domain"]) == {"photo", "studio"}
    assert report.val_studio_category_accuracy is not None and report.n_val == 12
    assert 0.5 <= meta["category_temperature"] <= 4.0
    assert meta["calibration"]["category_nll_after"] <= meta["calibration"]["category_nll_before"]
    assert any("sleeveless derived" in line for line in lines)
    # Reproducible: masks recomputed (no cache) give the same weights as cached ones.
    again = train_from_folder(
        root, tmp_path / "g.pt", val_folder=root, epochs=2, batch_size=4, width=4,
        num_threads=1, seed=3, mask_cache=None,
    )  # fmt: skip
    assert Path(again.weights_path).read_bytes() == Path(report.weights_path).read_bytes()
    clf = load_classifier(report.weights_path)
    assert clf.n_silhouette == N_SILHOUETTE
    s = render_hard(5, long_side=160, kind="tee")
    with_mask, without = clf.classify(s.image, s.mask), clf.classify(s.image, None)
    assert with_mask.category in CATEGORIES and without.category in CATEGORIES
    with pytest.raises(ValueError, match="masks"):
        clf.classify_batch([s.image], [])


def test_photo_only_training_still_writes_a_loadable_model(tmp_path, monkeypatch):
    """--studio-variants 0 --no-silhouette: the former photo-only path (no masker run)."""
    root = tmp_path / "f"
    for cls, kind in KINDS.items():
        (root / cls).mkdir(parents=True)
        for i in range(3):
            s = render_hard(500 + i + len(kind), long_side=120, kind=kind)
            (root / cls / f"{i}.png").write_bytes(encode_image(s.image))

    def no_masker(*a, **k):
        raise AssertionError("no mask is needed")

    monkeypatch.setattr(classifier_cnn, "_mask_cache", no_masker)
    report = train_from_folder(
        root, tmp_path / "g.pt", epochs=1, batch_size=4, width=4, num_threads=1,
        studio_variants=0, silhouette=False,
    )  # fmt: skip
    meta = json.loads(Path(report.meta_path).read_text())
    assert meta["silhouette_features"] == 0 and meta["n_train_sleeveless"] == 0
    assert report.n_train == 9
    clf = load_classifier(report.weights_path)
    assert clf.n_silhouette == 0 and "silhouette.0.weight" not in clf.model.state_dict()
