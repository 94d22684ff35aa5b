"""Shared test data: small catalogs made on the fly (synthetic garments, the bundled
public-domain person photo), never downloaded."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from vton.catalog import catalog_csv
from vton.imageio import encode_image
from vton.synthetic_garments import GarmentSpec, render_garment

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PERSONS_DIR = resources.files("vton") / "sample_data" / "persons"


def garment_spec(
    product_id: str, style: str = "tee", pattern: str = "plain", colour=(30, 60, 140)
) -> GarmentSpec:
    return GarmentSpec(
        product_id=product_id,
        style=style,
        pattern=pattern,
        colour=colour,
        accent=(240, 240, 240),
        text="VTON",
        width=360,
        height=480,
        scale=0.8,
    )


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.write_text(catalog_csv(rows))
    return path


def write_garment(path: Path, spec: GarmentSpec) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_image(render_garment(spec).image, "png"))
    return path


def blank_photo(path: Path, size=(320, 240)) -> Path:
    """A photo with no person in it: a smooth grey gradient."""
    h, w = size
    grad = np.linspace(90, 200, w, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    path.write_bytes(encode_image(grad.astype(np.uint8), "jpg"))
    return path


@pytest.fixture
def small_catalog(tmp_path: Path) -> dict[str, Path]:
    """Three garments and one person (relative image paths, as users write them)."""
    cat = tmp_path / "catalog"
    products = []
    for pid, style, pattern in (
        ("tee-navy", "tee", "plain"),
        ("tank-text", "tank", "text"),
        ("tee-stripes", "tee", "stripes"),
    ):
        write_garment(cat / "img" / f"{pid}.png", garment_spec(pid, style, pattern))
        products.append({"product_id": pid, "image": f"img/{pid}.png", "category": "top"})
    (cat / "people").mkdir(parents=True)
    (cat / "people" / "astronaut.jpg").write_bytes((PERSONS_DIR / "astronaut.jpg").read_bytes())
    return {
        "dir": cat,
        "products": write_csv(cat / "products.csv", products),
        "persons": write_csv(
            cat / "persons.csv", [{"person_id": "astro", "image": "people/astronaut.jpg"}]
        ),
    }
