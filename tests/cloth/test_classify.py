"""Garment classification: silhouette rules, catalog precedence."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import garment_spec
from vton.cloth.classify import (
    Classification,
    SilhouetteClassifier,
    make_classifier,
    resolve_classification,
    silhouette_features,
    upright,
)
from vton.cloth.normalise import normalise_garment
from vton.cloth.synthetic_hard import render_hard
from vton.synthetic_garments import render_garment


def _classify(image, mask):
    img, m = normalise_garment(image, mask, (256, 192))
    return SilhouetteClassifier().classify(img, m)


@pytest.mark.parametrize(
    "style,sleeve", [("tee", "short"), ("tank", "sleeveless"), ("longsleeve", "long")]
)
def test_sample_catalog_tops_are_tops_with_their_sleeves(style, sleeve):
    g = render_garment(garment_spec("g", style, "stripes"))
    r = _classify(g.image, g.mask)
    assert (r.category, r.sleeve, r.source) == ("top", sleeve, "silhouette")
    assert 0.5 <= r.category_confidence <= 1.0


@pytest.mark.parametrize(
    "kind,category",
    [("pants", "bottom"), ("shorts", "bottom"), ("skirt", "bottom"), ("dress", "dress"),
     ("shoe", "other"), ("bag", "other"), ("cap", "other")],
)  # fmt: skip
def test_silhouettes_of_other_categories(kind, category):
    hits = 0
    for seed in range(3):
        s = render_hard(seed, long_side=320, kind=kind)
        r = _classify(s.image, s.mask)
        hits += r.category == category
        assert (r.sleeve is None) == (r.category not in ("top", "dress", "outerwear"))
    assert hits >= 2


def test_trouser_legs_and_a_neckline_are_measured():
    pants = render_hard(0, long_side=320, kind="pants")
    tee = render_garment(garment_spec("g", "tee"))
    fp = silhouette_features(*reversed(normalise_garment(pants.image, pants.mask)))
    ft = silhouette_features(*reversed(normalise_garment(tee.image, tee.mask)))
    assert fp["legs"] > 0.8 and ft["legs"] == 0.0
    assert ft["top_curve"] > 0.04 > fp["top_curve"]


def test_upright_undoes_a_small_tilt():
    import cv2

    g = render_garment(garment_spec("g", "tee"))
    h, w = g.mask.shape
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), 6.0, 1.0)
    tilted = cv2.warpAffine(g.mask, rot, (w, h), flags=cv2.INTER_NEAREST)
    back, _ = upright(tilted)
    sym = lambda m: ((m > 0) & (m[:, ::-1] > 0)).sum() / ((m > 0) | (m[:, ::-1] > 0)).sum()  # noqa: E731
    xs = np.nonzero(back)[1]
    crop = back[:, xs.min() : xs.max() + 1]
    xs = np.nonzero(tilted)[1]
    assert sym(crop) > sym(tilted[:, xs.min() : xs.max() + 1]) + 0.05


def test_catalog_metadata_wins():
    pred = Classification("bottom", None, 0.7, None, "silhouette")
    r = resolve_classification(pred, "top", "long")
    assert (r.category, r.sleeve, r.source, r.category_confidence) == (
        "top",
        "long",
        "catalog",
        1.0,
    )
    # Catalog category without sleeve: the predicted sleeve fills in only when it applies.
    pred = Classification("top", "short", 0.9, 0.8, "silhouette")
    assert resolve_classification(pred, "top", None).sleeve == "short"
    assert resolve_classification(pred, "bottom", None).sleeve is None
    # No catalog category: the prediction, with a catalog sleeve if given.
    r = resolve_classification(pred, None, "long")
    assert (r.category, r.sleeve, r.source) == ("top", "long", "silhouette")
    assert resolve_classification(None, None, None) is None


def test_make_classifier_choices(tmp_path, monkeypatch, caplog):
    from vton.cloth import classify
    from vton.cloth.classifier_cnn import CnnClassifier
    from vton.errors import CheckpointError

    assert make_classifier("silhouette").id == "silhouette-v1"
    from vton.cloth.silhouette_reading import FusedClassifier

    shipped = make_classifier(None)  # the shipped weights, fused with the mask's reading
    assert isinstance(shipped, FusedClassifier) and isinstance(shipped.cnn, CnnClassifier)
    with pytest.raises(CheckpointError, match="does not exist"):  # configured: never replaced
        make_classifier(str(tmp_path / "none.pt"))
    monkeypatch.setattr(classify, "SHIPPED_WEIGHTS", tmp_path / "gone.pt")
    with caplog.at_level("WARNING", logger="vton.cloth.classify"):
        assert make_classifier(None).id == "silhouette-v1"
    assert "shipped garment classifier" in caplog.text and "missing" in caplog.text


def test_silhouette_rules_take_the_raw_photo_too():
    """The interface passes the decoded photo and the masker's mask; the rules normalise it
    themselves, so raw and normalised inputs give the same answer."""
    s = render_hard(3, long_side=400, kind="pants")
    raw = SilhouetteClassifier().classify(s.image, s.mask)
    assert raw == _classify(s.image, s.mask)


class _Fixed:
    """A classifier that always says the same thing (for the cloth stage's handling)."""

    def __init__(self, c: Classification) -> None:
        self.c, self.id = c, f"fixed-{c.category}-{c.category_confidence}"

    def classify(self, image, mask):
        return self.c


@pytest.mark.parametrize(
    "conf,catalog,note",
    [(0.3, None, True), (0.9, None, False), (0.3, "top", False)],
)
def test_low_confidence_predictions_are_flagged_unless_the_catalog_says(
    tmp_path, conf, catalog, note
):
    from vton.cloth.masking import make_masker
    from vton.cloth.prep import prepare_cloth
    from vton.imageio import encode_image
    from vton.schemas import ProductRow
    from vton.storage import Store

    g = render_garment(garment_spec("g", "tee"))
    (tmp_path / "g.png").write_bytes(encode_image(g.image))
    row = ProductRow("g", str(tmp_path / "g.png"), category=catalog)
    clf = _Fixed(Classification("outerwear", "long", conf, 0.8, "classifier"))
    store = Store(f"memory://classify-{id(tmp_path)}")
    item = prepare_cloth(store, row, make_masker("classical"), max_pixels=10**7, classifier=clf)
    assert item.status == "ok"
    assert item.category == (catalog or "outerwear")  # catalog metadata wins
    assert ("low-confidence-category" in item.notes) == note
