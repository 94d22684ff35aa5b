"""Make `docs/physical_contact_sheet.png`: person / garment / physical try-on, for a reader
to see what the weight-free renderer does.

Usage::

    python benchmarks/make_contact_sheet.py [--out docs/physical_contact_sheet.png]
        [--data /work/shared/data]

Persons: the main job's bundled sample persons first (``sample:<name>``, the photos of
`vton/sample_data/persons/`: what a new user's first run shows), the public-domain
astronaut photo and one CC0 photo from `persons-cc0/` (no model release: used here as the
data README allows, for development), and synthetic
persons (`vton.person.synthetic`) in several poses. Garments: real CC0 product photos from
`clothing-small/validation/` and the bundled synthetic garments. Everything goes through
the project's own stages (`prepare_person` with MediaPipe, `prepare_cloth` with the
classical masker) into an in-memory store, as a nightly run would, and is rendered by
`PhysicalRenderer`. Without the data folder, only synthetic pairs are drawn.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vton.sample
from vton.cloth.masking import make_masker
from vton.cloth.prep import load_cloth_asset, prepare_cloth
from vton.errors import InvalidInputError
from vton.imageio import encode_image
from vton.person.pose import MediaPipePoseEstimator
from vton.person.prep import PersonAsset, load_person_asset, prepare_person
from vton.person.synthetic import synthetic_person
from vton.render.base import RenderRequest
from vton.render.physical import PhysicalRenderer
from vton.sample import SAMPLE_PERSONS
from vton.schemas import PersonRow, ProductRow
from vton.storage import Store
from vton.synthetic_garments import render_garment, sample_catalog_specs

#: (person, garment): persons are ``sample:<name>`` (bundled), file names under
#: persons-cc0/ or ``synthetic:<i>``; garments are ``<class>/<file>`` under
#: clothing-small/validation/ or a sample spec id.
PAIRS = (
    ("sample:white-shirt", "tee-stripes-red"),
    ("sample:white-shirt", "tee-logo-yellow"),
    ("sample:white-shirt", "tank-stripes-green"),
    ("sample:white-shirt", "t-shirt/0e240297-2265-411e-b386-cb59a44f98ae.jpg"),
    ("sample:astronaut", "tee-logo-yellow"),
    ("sample:astronaut", "tee-check-blue"),
    ("skimage_astronaut.png", "t-shirt/0e240297-2265-411e-b386-cb59a44f98ae.jpg"),
    ("skimage_astronaut.png", "t-shirt/099de1d5-7422-4230-b11b-fe581139b82c.jpg"),
    ("interfaces_015.jpg", "tee-stripes-red"),
    ("interfaces_015.jpg", "t-shirt/0e240297-2265-411e-b386-cb59a44f98ae.jpg"),
    ("synthetic:0", "t-shirt/099de1d5-7422-4230-b11b-fe581139b82c.jpg"),
    ("synthetic:1", "t-shirt/09cd8fdf-bbe9-4908-8f54-f399bc635c9b.jpg"),
    ("synthetic:2", "t-shirt/0e240297-2265-411e-b386-cb59a44f98ae.jpg"),
    ("synthetic:3", "tee-text-lightgrey"),
    ("synthetic:4", "tank-stripes-green"),
    ("synthetic:5", "longsleeve-plain-green"),
    ("synthetic:6", "tee-check-blue"),
)
#: Synthetic persons: size, sleeves of the old shirt, arm angle, colours.
SYNTHETIC = (
    dict(height=768, width=576, sleeves="short", arm_angle=22.0),
    dict(height=768, width=576, sleeves="long", arm_angle=30.0, shirt=(150, 40, 40)),
    dict(height=768, width=576, sleeves="short", arm_angle=12.0, skin=(120, 80, 60)),
    dict(height=512, width=384, sleeves="long", arm_angle=35.0, shirt=(230, 230, 225)),
    dict(height=768, width=576, sleeves="short", arm_angle=18.0, skin=(190, 140, 110)),
    dict(height=768, width=576, sleeves="short", arm_angle=40.0, shirt=(30, 30, 30)),
    dict(height=512, width=384, sleeves="long", arm_angle=8.0),
)
TILE_H = 150
COLUMNS = 4


def _person(store: Store, data: Path, name: str, estimator) -> PersonAsset | None:
    if name.startswith("synthetic:"):
        kw = dict(SYNTHETIC[int(name.split(":")[1])])
        p = synthetic_person(kw.pop("height"), kw.pop("width"), **kw)
        return PersonAsset(p.image, p.mask, p.keypoints, {}, p.labels)
    if name.startswith("sample:"):
        stem = name.split(":", 1)[1]
        path = Path(vton.sample.__file__).parent / "sample_data" / "persons"
        path = path / SAMPLE_PERSONS[stem]
        name = stem
    else:
        path = data / "persons-cc0" / name
    if not path.exists():
        return None
    row = PersonRow(Path(name).stem, str(path))
    res = prepare_person(store, row, estimator, max_side=768, max_pixels=64_000_000)
    if res.status != "ok":
        print(f"  {name}: {res.status} {res.error}")
        return None
    return load_person_asset(store, res.key)


def _cloth(store: Store, data: Path, name: str, masker):
    specs = {s.product_id: s for s in sample_catalog_specs()}
    if name in specs:
        g = render_garment(specs[name])
        src = store.write_bytes(f"inputs/{name}.png", encode_image(g.image, "png"))
        row = ProductRow(name, src, "top", g.sleeve)
    else:
        path = data / "clothing-small" / "validation" / name
        if not path.exists():
            return None
        row = ProductRow(Path(name).stem[:8], str(path), "top")
    res = prepare_cloth(store, row, masker, max_pixels=64_000_000)
    if res.status != "ok":
        print(f"  {name}: {res.status} {res.error}")
        return None
    return load_cloth_asset(store, res.key)


def _fit(img: np.ndarray, h: int) -> np.ndarray:
    w = max(1, round(img.shape[1] * h / img.shape[0]))
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="docs/physical_contact_sheet.png")
    ap.add_argument("--data", default="/work/shared/data")
    args = ap.parse_args()
    data = Path(args.data)
    store = Store("memory://contact-sheet")
    estimator, masker = MediaPipePoseEstimator(), make_masker("classical")
    renderer = PhysicalRenderer()
    triplets = []
    for person_name, cloth_name in PAIRS:
        person = _person(store, data, person_name, estimator)
        cloth = _cloth(store, data, cloth_name, masker)
        if person is None or cloth is None:
            continue
        try:
            out = renderer.render_one(RenderRequest(f"{person_name}|{cloth_name}", cloth, person))
        except InvalidInputError as exc:  # shown in the log, left off the sheet
            print(f"  {person_name} + {cloth_name}: invalid: {exc}")
            continue
        p, r = _fit(person.image, TILE_H), _fit(out.tryon, TILE_H)
        g = _fit(cloth.image, TILE_H)
        gap = np.full((TILE_H, 3, 3), 255, np.uint8)
        triplets.append(np.hstack([p, gap, g, gap, r]))
        print(f"  {person_name} + {cloth_name}: {person.image.shape[1]}x{person.image.shape[0]}")
    if not triplets:
        raise SystemExit("no pair could be prepared")
    width = max(t.shape[1] for t in triplets)
    cells = [np.pad(t, ((4, 4), (4, width - t.shape[1] + 12), (0, 0)), constant_values=255)
             for t in triplets]  # fmt: skip
    blank = np.full_like(cells[0], 255)
    while len(cells) % COLUMNS:
        cells.append(blank)
    rows = [np.hstack(cells[i : i + COLUMNS]) for i in range(0, len(cells), COLUMNS)]
    sheet = np.vstack(rows)
    # A 256-colour palette keeps the PNG small (photos do not compress losslessly).
    img = Image.fromarray(sheet).quantize(256, method=Image.Quantize.MEDIANCUT, dither=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_bytes(buf.getvalue())
    print(f"{len(triplets)} pairs -> {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, "
          f"{len(buf.getvalue()) / 1024:.0f} KB)")  # fmt: skip


if __name__ == "__main__":
    main()
