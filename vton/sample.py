"""The bundled sample catalog: what `vton run` renders with no arguments.

Garments are generated (`vton.synthetic_garments`: tees, tanks and a long-sleeve, plain,
striped, printed and logo, several colours and sizes, on white) and the person photos ship
in `vton/sample_data/persons/` (public domain / CC0, see PROVENANCE.txt there). They are
written into the store under `sample/` with relative image paths, exactly like a user's
catalog folder, so the sample exercises the same ingestion path.
"""

from __future__ import annotations

from importlib import resources

from vton.catalog import catalog_csv
from vton.imageio import encode_image
from vton.storage import Store
from vton.synthetic_garments import render_garment, sample_catalog_specs

__all__ = ["SAMPLE_PERSONS", "write_sample_catalog"]

#: Persons of the default sample: a man in an ordinary shirt (what a catalog's model photo
#: looks like) and the astronaut in her suit (a hard case: a bulky old garment to remove).
#: `cameraman.png` also ships, as a hard case for tests (grayscale, side-on), not as a
#: demo model. Provenance: `sample_data/persons/PROVENANCE.txt`.
SAMPLE_PERSONS = {"white-shirt": "white-shirt.jpg", "astronaut": "astronaut.jpg"}


def write_sample_catalog(store: Store, prefix: str = "sample") -> tuple[str, str]:
    """Write the sample garments, persons and their tables; returns (products, persons)
    table URLs. Deterministic bytes, so a second night finds every asset up to date."""
    products = []
    for spec in sample_catalog_specs():
        garment = render_garment(spec)
        key = f"{prefix}/garments/{spec.product_id}.png"
        if not store.exists(key):
            store.write_bytes(key, encode_image(garment.image, "png"))
        products.append({
            "product_id": spec.product_id, "image": f"garments/{spec.product_id}.png",
            "category": garment.category, "sleeve": garment.sleeve,
            "title": f"{spec.style} {spec.pattern}",
        })  # fmt: skip
    persons = []
    data_dir = resources.files("vton") / "sample_data" / "persons"
    for person_id, name in SAMPLE_PERSONS.items():
        key = f"{prefix}/persons/{name}"
        if not store.exists(key):
            store.write_bytes(key, (data_dir / name).read_bytes())
        persons.append({"person_id": person_id, "image": f"persons/{name}"})
    store.write_text(f"{prefix}/products.csv", catalog_csv(products))
    store.write_text(f"{prefix}/persons.csv", catalog_csv(persons))
    return store.uri(f"{prefix}/products.csv"), store.uri(f"{prefix}/persons.csv")
