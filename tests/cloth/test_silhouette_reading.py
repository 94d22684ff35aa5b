"""The silhouette reading of a garment's mask and its fusion with the CNN.

Garments are drawn as polygons from their right half (x from the centre line, y down, in
fractions of the garment's height), mirrored, on a 512-row canvas: a tee, a cami with thin
straps, a long-sleeve, a dress, trousers with a crotch gap, and a crumpled blob. The
reading must measure what each outline shows, and the fusion must move the CNN's answer
only as far as that evidence warrants (a confident CNN is kept; a blob changes nothing).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import mirrored_mask
from vton.cloth.classify import Classification
from vton.cloth.silhouette_reading import (
    CATEGORY_LIKELIHOOD,
    DRESS_MIN_LENGTH,
    LONG_SLEEVE_CHEST,
    READING_VERSION,
    SLEEVE_LIKELIHOOD,
    FusedClassifier,
    SilhouetteReading,
    category_evidence,
    fuse,
    likelihood_table,
    read_silhouette,
    sleeve_evidence,
    smooth_backdrop,
)
from vton.errors import InvalidInputError
from vton.render.garment_geometry import garment_geometry

H, W = 512, 512
TOP, BOTTOM = 40, 472


def _canvas(right, extra=(), top=TOP, bottom=BOTTOM) -> np.ndarray:
    """(H, W) uint8 {0, 255} mask of the polygon whose right half is `right`, mirrored;
    `extra` polygons (same units) are added, mirrored too."""
    return mirrored_mask(right, extra, shape=(H, W), top=top, bottom=bottom)


TEE = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.5, 0.3), (0.4, 0.36), (0.3, 0.27),
       (0.3, 1.0), (0, 1.0)]  # fmt: skip
# a cami 0.72 as wide as long (a 46 cm chest, 64 cm from the top of its straps)
CAMI = [(0, 0.25), (0.26, 0.15), (0.36, 0.3), (0.36, 1.0), (0, 1.0)]
CAMI_STRAPS = [[(0.23, 0.0), (0.242, 0.0), (0.266, 0.17), (0.242, 0.17)]]
LONGSLEEVE = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.62, 0.72), (0.52, 0.77), (0.3, 0.3),
              (0.3, 1.0), (0, 1.0)]  # fmt: skip
# a knee-length sleeveless dress: narrow bodice, waist, flared skirt; 2.5 chest widths long
DRESS = [(0, 0.08), (0.06, 0.0), (0.1, 0.0), (0.12, 0.06), (0.2, 0.14), (0.19, 0.35),
         (0.32, 1.0), (0, 1.0)]  # fmt: skip
# trousers: waistband at the top, the crotch at 30 %, two legs with a widening gap below
TROUSERS = [(0, 0.0), (0.22, 0.0), (0.26, 1.0), (0.08, 1.0), (0, 0.3)]
SHAPES = {
    "tee": (TEE, ()),
    "cami": (CAMI, CAMI_STRAPS),
    "longsleeve": (LONGSLEEVE, ()),
    "dress": (DRESS, ()),
    "trousers": (TROUSERS, ()),
}


def _blob(seed: int = 1) -> np.ndarray:
    """A crumpled garment: a lopsided, spiky outline with no shoulders or legs."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    r = 150 * (1 + 0.5 * rng.uniform(-1, 1, 40))
    pts = np.stack([230 + r * np.cos(t) * 1.3 + 40 * np.sin(2 * t), 260 + r * np.sin(t) * 0.8], 1)
    m = np.zeros((H, W), np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255)
    return m


def _mask(name: str) -> np.ndarray:
    right, extra = SHAPES[name]
    return _canvas(right, list(extra))


def _dist(names, top: str, p: float) -> dict[str, float]:
    rest = (1 - p) / (len(names) - 1)
    return {n: p if n == top else rest for n in names}


CATS = ("top", "bottom", "dress", "outerwear", "other")
SLEEVE_NAMES = ("sleeveless", "short", "long")


# -------------------------------------------------------------------------------------------
# The reading
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, sleeve", [("tee", "short"), ("cami", "sleeveless"), ("longsleeve", "long")]
)
def test_tops_are_read_upright_with_their_sleeves_and_a_top_length(name, sleeve):
    r = read_silhouette(_mask(name))
    assert r.upright_top and r.sleeve == sleeve, r
    assert r.length_to_chest < DRESS_MIN_LENGTH, r
    assert category_evidence(r) == "top-length" and sleeve_evidence(r) == sleeve
    assert r.legs == 0.0


def test_reading_does_not_depend_on_where_or_how_big_the_garment_is():
    """The whole photo's mask is cut to the garment first: a small tee in a corner of a
    large canvas reads as the tee does."""
    small = cv2.resize(_mask("tee"), (256, 256), interpolation=cv2.INTER_NEAREST)
    big = np.zeros((900, 700), np.uint8)
    big[500:756, 40:296] = small
    a, b = read_silhouette(_mask("tee")), read_silhouette(big)
    assert (b.upright_top, b.sleeve) == (a.upright_top, a.sleeve)
    assert b.length_to_chest == pytest.approx(a.length_to_chest, rel=0.08)


# A tee as a studio shot on a form shows it: the body's turn narrows its chest seen from the
# front (0.42 wide under 0.6 wide shoulders) while its length stays a tee's.
TEE_ON_FORM = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.42, 0.3), (0.33, 0.35), (0.21, 0.27),
               (0.23, 1.0), (0, 1.0)]  # fmt: skip


def test_a_tee_on_a_form_is_measured_by_its_shoulders_and_reads_top_length():
    mask = _canvas(TEE_ON_FORM)
    g = garment_geometry(mask)
    # over its narrowed chest alone it would be a dress's length (the reading before)
    assert (g.hem_y - g.shoulder_y) / (2 * g.chest_half_width) >= DRESS_MIN_LENGTH
    r = read_silhouette(mask)
    assert r.upright_top and r.sleeve == "short", r
    assert 1.3 < r.length_to_chest < DRESS_MIN_LENGTH, r
    assert category_evidence(r) == "top-length"


def test_a_dress_is_not_read_as_a_top():
    r = read_silhouette(_mask("dress"))
    assert category_evidence(r) in ("dress-length", None), r
    assert r.legs == 0.0


# Maxi dresses, 4.5 chest widths from shoulder to hem: far longer than the renderer's reader
# takes a top to be, so it refuses them; a narrow bodice, a waist at 30 %, a gentle A-line.
_MAXI_BODY = [(0.095, 0.3), (0.17, 1.0), (0, 1.0)]
MAXI = {
    "long": [(0, 0.03), (0.04, 0.0), (0.10, 0.015), (0.28, 0.40), (0.24, 0.42), (0.11, 0.16),
             *_MAXI_BODY],
    "short": [(0, 0.03), (0.04, 0.0), (0.10, 0.015), (0.19, 0.10), (0.16, 0.13), (0.11, 0.12),
              *_MAXI_BODY],
    # its A-line skirt, squashed, is what the reader takes for bell sleeves merged with
    # the body down to the hem
    "sleeveless": [(0, 0.05), (0.06, 0.0), (0.08, 0.0), (0.115, 0.12), *_MAXI_BODY],
}  # fmt: skip


def _maxi(sleeve: str) -> np.ndarray:
    return mirrored_mask(MAXI[sleeve], shape=(1024, 768), top=40, bottom=1000)


@pytest.mark.parametrize("sleeve", ["long", "short", "sleeveless"])
def test_a_long_dress_the_reader_refuses_is_read_squashed_with_its_sleeves(sleeve):
    mask = _maxi(sleeve)
    with pytest.raises(InvalidInputError):
        garment_geometry(mask)  # far too long for a top: the first reading refuses it
    r = read_silhouette(mask)
    assert r.upright_top and r.squashed and r.sleeve == sleeve, r
    assert sleeve_evidence(r) == sleeve and category_evidence(r) == "dress-length"
    # its lengths are the real ones, not the squashed copy's: shoulder (y 0.015) to hem
    # (1.0) over a 0.22 wide chest
    assert r.length_to_chest == pytest.approx(0.985 / 0.22, rel=0.12)


def test_a_squashed_sleeve_is_long_or_short_by_its_length_over_the_chest():
    """The reader's own rule (a share of the body's length) would call a maxi dress's long
    sleeve short; over the chest width it is long (0.9 chest widths >= LONG_SLEEVE_CHEST)."""
    r = read_silhouette(_maxi("long"))
    assert r.sleeve_length is not None and r.length_to_chest is not None
    over_chest = r.sleeve_length * r.length_to_chest
    assert over_chest >= LONG_SLEEVE_CHEST and r.sleeve_length < 0.55
    assert read_silhouette(_maxi("short")).sleeve_length * 4.5 < LONG_SLEEVE_CHEST


def test_a_squashed_dress_reading_moves_an_unsure_cnn_sleeve():
    """The CNN calls a short-sleeved dress sleeveless (as it did dresses with puff sleeves
    on studio shots): the squashed reading's short sleeves win; the category stays."""
    r = read_silhouette(_maxi("short"))
    c = fuse(_dist(CATS, "dress", 0.9), _dist(SLEEVE_NAMES, "sleeveless", 0.6), r)
    assert (c.category, c.sleeve) == ("dress", "short")


def test_a_tall_blob_is_not_read_squashed():
    """Squashing is for garments laid out upright: a tall crumpled outline stays unread."""
    tall = cv2.resize(_blob(3), (200, 700), interpolation=cv2.INTER_NEAREST)
    r = read_silhouette(tall)
    assert not r.upright_top and not r.squashed and category_evidence(r) is None


def test_the_canvas_is_cut_to_the_garments_box_as_its_pixels_give_it():
    """`_canvas_mask` finds the box from rows and columns (fast on a whole photo's mask):
    the same canvas as cutting to the box of np.nonzero's pixels."""
    from vton.cloth.normalise import HIRES_SIZE
    from vton.cloth.silhouette_reading import _canvas_mask

    rng = np.random.default_rng(4)
    for _ in range(3):
        m = np.zeros((700, 520), np.uint8)
        y, x = rng.integers(0, 400), rng.integers(0, 300)
        m[y : y + rng.integers(40, 300), x : x + rng.integers(40, 220)] = 255
        sy, sx = rng.integers(0, 690), rng.integers(0, 510)
        m[sy : sy + 8, sx : sx + 8] = 255  # a stray speck widens the box
        ys, xs = np.nonzero(m)
        crop = m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        out = _canvas_mask(m)
        assert out is not None and out.shape == HIRES_SIZE
        ch, cw = crop.shape
        scale = min(0.9 * HIRES_SIZE[0] / ch, 0.9 * HIRES_SIZE[1] / cw)
        rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
        assert abs(np.ptp(rows) + 1 - ch * scale) <= 3, (np.ptp(rows), ch * scale)
        assert abs(np.ptp(cols) + 1 - cw * scale) <= 3, (np.ptp(cols), cw * scale)
    assert _canvas_mask(np.zeros((50, 50), np.uint8)) is None


def test_trousers_have_two_legs_under_a_waistband():
    r = read_silhouette(_mask("trousers"))
    assert r.legs >= 0.75 and category_evidence(r) == "legs", r
    # the same outline without the crotch gap (a skirt) has no legs
    skirt = _canvas([(0, 0.0), (0.22, 0.0), (0.3, 1.0), (0, 1.0)])
    assert read_silhouette(skirt).legs == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_crumpled_blob_gives_no_evidence(seed):
    r = read_silhouette(_blob(seed))
    assert category_evidence(r) is None and sleeve_evidence(r) is None, r


def test_an_empty_mask_reads_nothing_and_a_bad_shape_raises():
    r = read_silhouette(np.zeros((64, 64), np.uint8))
    assert r == SilhouetteReading(False, None, None, 0.0, 0.0, None)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        read_silhouette(np.zeros((8, 8, 3), np.uint8))


# -------------------------------------------------------------------------------------------
# The likelihoods and the fusion
# -------------------------------------------------------------------------------------------


def test_likelihood_table_counts_nothing_read_in_the_denominator():
    obs = [("top", "top-length")] * 6 + [("top", None)] * 2 + [("bottom", "legs")] * 3
    t = likelihood_table(obs, ["legs", "top-length"])
    assert t["top-length"]["top"] == pytest.approx(7 / 11, abs=1e-4)  # (6 + 1) / (8 + 3)
    assert t["legs"]["top"] == pytest.approx(1 / 11, abs=1e-4)
    assert t["legs"]["bottom"] == pytest.approx(4 / 6, abs=1e-4)


def test_shipped_likelihoods_are_probabilities_and_point_the_right_way():
    for table, truths in ((CATEGORY_LIKELIHOOD, CATS), (SLEEVE_LIKELIHOOD, SLEEVE_NAMES)):
        for t in truths:
            assert 0 < sum(row[t] for row in table.values()) < 1  # the rest: nothing read
    assert max(CATEGORY_LIKELIHOOD["legs"], key=CATEGORY_LIKELIHOOD["legs"].get) == "bottom"
    assert CATEGORY_LIKELIHOOD["top-length"]["top"] > CATEGORY_LIKELIHOOD["top-length"]["dress"]
    for s in SLEEVE_NAMES:
        assert max(SLEEVE_LIKELIHOOD[s], key=SLEEVE_LIKELIHOOD[s].get) == s


def test_an_unsure_dress_on_a_tee_outline_becomes_a_top_with_its_measured_sleeve():
    r = read_silhouette(_mask("tee"))
    c = fuse(_dist(CATS, "dress", 0.45), _dist(SLEEVE_NAMES, "long", 0.6), r)
    assert (c.category, c.sleeve) == ("top", "short")
    # photo and outline disagree: the answer is the outline's, but flagged as uncertain
    assert c.category_confidence < 0.6
    assert c.sleeve_confidence > 0.6 and c.source == "classifier"


def test_a_confident_cnn_outweighs_a_reading_that_is_often_wrong_on_flat_lays():
    r = read_silhouette(_mask("tee"))
    c = fuse(_dist(CATS, "dress", 0.99), _dist(SLEEVE_NAMES, "long", 0.98), r)
    assert (c.category, c.sleeve) == ("dress", "long")
    assert c.category_confidence < 0.99  # but less sure than before


def test_trousers_called_a_dress_become_a_bottom_without_a_sleeve():
    c = fuse(
        _dist(CATS, "dress", 0.72), _dist(SLEEVE_NAMES, "sleeveless", 0.8),
        read_silhouette(_mask("trousers")),
    )  # fmt: skip
    assert (c.category, c.sleeve, c.sleeve_confidence) == ("bottom", None, None)


@pytest.mark.parametrize("name", ["blob", "dress"])
def test_without_top_or_legs_evidence_the_cnn_category_stands(name):
    r = read_silhouette(_blob() if name == "blob" else _mask("dress"))
    pc, ps = _dist(CATS, "dress", 0.7), _dist(SLEEVE_NAMES, "short", 0.55)
    c = fuse(pc, ps, r)
    assert c.category == "dress"
    if category_evidence(r) is None:  # nothing read: the CNN's answer exactly
        assert c.category_confidence == pytest.approx(0.7)
    if sleeve_evidence(r) is None:
        assert (c.sleeve, c.sleeve_confidence) == ("short", pytest.approx(0.55))


def test_agreement_raises_and_conflict_lowers_the_confidence():
    r = read_silhouette(_mask("cami"))
    agree = fuse(_dist(CATS, "top", 0.55), _dist(SLEEVE_NAMES, "sleeveless", 0.5), r)
    assert agree.category == "top" and agree.category_confidence > 0.7  # from 0.55
    assert agree.sleeve == "sleeveless" and agree.sleeve_confidence > 0.7  # from 0.5
    disagree = fuse(_dist(CATS, "top", 0.55), _dist(SLEEVE_NAMES, "long", 0.5), r)
    assert disagree.sleeve_confidence < 0.6


# -------------------------------------------------------------------------------------------
# The fused classifier
# -------------------------------------------------------------------------------------------


class _Fixed:
    """A back-end that always gives one answer (top-1 only, like the silhouette rules)."""

    id = "fixed-dress"

    def classify(self, image, mask):
        return Classification("dress", "long", 0.45, 0.5, "classifier")


def test_fused_classifier_reads_the_mask_and_keeps_the_backend_without_one():
    clf = FusedClassifier(_Fixed())
    assert clf.id == f"fixed-dress+reading-v{READING_VERSION}"
    image = np.full((H, W, 3), 255, np.uint8)
    tee = clf.classify(image, _mask("tee"))
    assert (tee.category, tee.sleeve) == ("top", "short")
    kept = clf.classify(image, None)  # no mask: nothing to read
    assert (kept.category, kept.sleeve, kept.category_confidence) == ("dress", "long", 0.45)
    with pytest.raises(ValueError, match="2 images but 1 masks"):
        clf.classify_batch([image, image], [None])


def test_the_mask_is_read_only_on_a_smooth_studio_backdrop():
    """A flat lay on a textured backdrop (bedding, a rug) keeps the back-end's answer: its
    garment may be crumpled in ways its outline does not show."""
    rng = np.random.default_rng(0)
    mask = _mask("tee")
    studio = np.full((H, W, 3), 240, np.uint8)
    rug = rng.integers(60, 200, (H, W, 3), dtype=np.uint8)
    for photo in (studio, rug):
        photo[mask > 0] = (40, 70, 160)
    assert smooth_backdrop(studio) and not smooth_backdrop(rug)
    clf = FusedClassifier(_Fixed())
    assert clf.classify(studio, mask).category == "top"
    kept = clf.classify(rug, mask)
    assert (kept.category, kept.sleeve, kept.category_confidence) == ("dress", "long", 0.45)


def test_shipped_fused_classifier_classifies_a_drawn_tee_as_a_short_sleeved_top():
    from vton.cloth.classify import make_classifier

    clf = make_classifier(None)
    if not isinstance(clf, FusedClassifier):
        pytest.skip("no shipped weights in this tree")
    mask = _mask("tee")
    image = np.full((H, W, 3), 245, np.uint8)
    image[mask > 0] = (40, 70, 160)
    c = clf.classify(image, mask)
    assert (c.category, c.sleeve) == ("top", "short"), c
