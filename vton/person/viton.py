"""Export a run's prepared garments and persons in the VITON dataset layout.

So that the reference repositories (CP-VTON, CP-VTON+) and this pipeline run on the same
data: `python test.py --dataroot OUT --datamode test --data_list test_pairs.txt` reads
what this writes.

Layout (`OUT/` is the dataroot, `datamode` defaults to ``test``)::

    OUT/test_pairs.txt                     "<person>.jpg <product>.jpg" per pair
    OUT/test/image/<person>.jpg            256x192 person photo (`vton.person.frame`)
    OUT/test/image-parse/<person>.png      LIP ids 0-19, palette PNG (CP-VTON)
    OUT/test/image-parse-new/<person>.png  LIP ids with CP-VTON+'s neck (20)
    OUT/test/image-mask/<person>.png       body mask 0/255 (CP-VTON+'s shape)
    OUT/test/pose/<person>_keypoints.json  COCO-18, key `pose_keypoints`
    OUT/test/cloth/<product>.jpg           256x192 garment
    OUT/test/cloth-mask/<product>.jpg      its mask (JPEG, as VITON's; read as >= 128)

`read_viton_persons` goes the other way: the persons of a VITON dataroot, each with its
pose and parse files, so that prep uses them instead of estimating.

Names follow the references' own derivations (`.jpg` -> `.png`, `.jpg` ->
`_keypoints.json`), so an id containing ``.jpg`` cannot be exported and is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from vton.imageio import decode_image, decode_mask, encode_image, resize_image, resize_mask
from vton.person.frame import FRAME_SIZE, frame_person
from vton.person.keypoints import to_openpose_json
from vton.person.labels import NECK, encode_labels
from vton.person.prep import load_person_asset
from vton.runs import read_plan
from vton.schemas import PersonRow
from vton.storage import TMP_DIR, Store

__all__ = ["VitonExport", "export_viton", "latest_run_id", "read_viton_persons", "viton_parse"]


@dataclass(frozen=True)
class VitonExport:
    """What `export_viton` wrote: counts, the pairs file's URI, and pairs left out (why)."""

    out: str
    run_id: str
    pairs: int
    persons: int
    garments: int
    pairs_file: str
    left_out: tuple[str, ...] = ()


def viton_parse(parse: np.ndarray) -> np.ndarray:
    """(H, W) uint8 LIP ids -> the same with CP-VTON+'s neck (20) as background (0), the
    label set of VITON's original `image-parse/` files."""
    return np.where(parse == NECK, 0, parse).astype(np.uint8)


def latest_run_id(store: Store) -> str:
    """The newest run (ids sort by start time) that has a plan."""
    runs = sorted(k.split("/")[1] for k in store.list_keys("runs") if k.endswith("/plan.parquet"))
    if not runs:
        raise FileNotFoundError(f"no run with a plan in {store.url}")
    return runs[-1]


def _name(item_id: str, kind: str) -> str:
    if ".jpg" in item_id:
        raise ValueError(f"{kind} id {item_id!r} contains '.jpg', which VITON names cannot hold")
    return f"{item_id}.jpg"


def export_viton(
    store: Store,
    out: str | os.PathLike,
    run_id: str | None = None,
    *,
    datamode: str = "test",
    storage_options: Mapping[str, Any] | None = None,
) -> VitonExport:
    """Write the pairs of run `run_id` (None: the latest run) in the VITON layout at `out`.

    Parameters
    ----------
    store : the pipeline's store, holding the run's plan and assets.
    out : dataroot to write (local path or fsspec URL); existing files are replaced.
    run_id : the run whose plan gives the pairs; every pair whose garment and person were
        prepared is exported, whatever its render status.
    datamode : sub-folder name, as the references' `--datamode`.
    storage_options : fsspec options for `out`.
    """
    if not datamode or "/" in datamode:
        raise ValueError(f"datamode must be a plain folder name, got {datamode!r}")
    run_id = run_id or latest_run_id(store)
    plan = read_plan(store, run_id)
    dest = Store(os.fspath(out), storage_options)
    rows = [
        r
        for r in plan.select(
            ["pair_id", "product_id", "person_id", "cloth_key", "person_key"]
        ).to_pylist()
        if r["cloth_key"] and r["person_key"]
    ]
    rows.sort(key=lambda r: r["pair_id"])
    base = datamode
    persons: dict[str, str | None] = {}
    garments: dict[str, str | None] = {}
    left_out: list[str] = []
    lines: list[str] = []
    for r in rows:
        pkey, ckey = r["person_key"], r["cloth_key"]
        if pkey not in persons:
            persons[pkey] = _export_person(store, dest, base, r["person_id"], pkey, left_out)
        if ckey not in garments:
            garments[ckey] = _export_cloth(store, dest, base, r["product_id"], ckey)
        im_name, c_name = persons[pkey], garments[ckey]
        if im_name is None:
            left_out.append(f"pair {r['pair_id']}: person {r['person_id']} not exported")
            continue
        lines.append(f"{im_name} {c_name}")
    pairs_file = dest.write_text(f"{datamode}_pairs.txt", "".join(f"{x}\n" for x in lines))
    if dest.is_local:
        tmp = os.path.join(dest.root, TMP_DIR)
        if os.path.isdir(tmp) and not os.listdir(tmp):
            os.rmdir(tmp)
    return VitonExport(
        out=dest.url,
        run_id=run_id,
        pairs=len(lines),
        persons=sum(v is not None for v in persons.values()),
        garments=len(garments),
        pairs_file=pairs_file,
        left_out=tuple(left_out),
    )


def _export_person(
    store: Store, dest: Store, base: str, person_id: str, key: str, left_out: list[str]
) -> str | None:
    name = _name(person_id, "person")
    asset = load_person_asset(store, key)
    if asset.parse is None:
        left_out.append(
            f"person {person_id}: asset {key} has no label map (prepared by an older "
            "version; prepare it again)"
        )
        return None
    framed = frame_person(asset, FRAME_SIZE)
    stem = name[: -len(".jpg")]
    dest.write_bytes(f"{base}/image/{name}", encode_image(framed.image, "jpg", quality=95))
    dest.write_bytes(
        f"{base}/image-parse/{stem}.png", encode_labels(viton_parse(framed.parse), palette=True)
    )
    dest.write_bytes(f"{base}/image-parse-new/{stem}.png", encode_labels(framed.parse))
    dest.write_bytes(f"{base}/image-mask/{stem}.png", encode_image(framed.mask))
    dest.write_text(
        f"{base}/pose/{stem}_keypoints.json", to_openpose_json(framed.keypoints, "pose_keypoints")
    )
    return name


def _export_cloth(store: Store, dest: Store, base: str, product_id: str, key: str) -> str:
    name = _name(product_id, "product")
    cloth = decode_image(store.read_bytes(f"{key}/cloth.png"), key).rgb
    mask = decode_mask(store.read_bytes(f"{key}/cloth-mask.png"), key)
    if cloth.shape[:2] != FRAME_SIZE:
        cloth = resize_image(cloth, FRAME_SIZE)
    if mask.shape != FRAME_SIZE:
        mask = resize_mask(mask, FRAME_SIZE)
    dest.write_bytes(f"{base}/cloth/{name}", encode_image(cloth, "jpg", quality=95))
    dest.write_bytes(f"{base}/cloth-mask/{name}", encode_image(mask, "jpg", quality=100))
    return name


def read_viton_persons(
    root: str | os.PathLike,
    datamode: str = "test",
    parse_dir: str = "image-parse",
    storage_options: Mapping[str, Any] | None = None,
) -> list[PersonRow]:
    """Persons rows for every `<root>/<datamode>/image/*.jpg`, with `pose` and `parse` set
    to its `pose/<name>_keypoints.json` and `<parse_dir>/<name>.png` when they exist.

    `parse_dir` is ``image-parse`` (VITON, CP-VTON) or ``image-parse-new`` (CP-VTON+).
    The person id is the file name without `.jpg`, as the references name things.
    """
    src = Store(os.fspath(root), storage_options)
    rows = []
    for key in src.list_keys(f"{datamode}/image"):
        name = key.rsplit("/", 1)[1]
        if not name.endswith(".jpg") or key.count("/") != 2:
            continue
        stem = name[: -len(".jpg")]
        pose_key = f"{datamode}/pose/{stem}_keypoints.json"
        parse_key = f"{datamode}/{parse_dir}/{stem}.png"
        rows.append(
            PersonRow(
                stem,
                src.uri(key),
                src.uri(pose_key) if src.exists(pose_key) else None,
                src.uri(parse_key) if src.exists(parse_key) else None,
            )
        )
    return rows
