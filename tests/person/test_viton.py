"""VITON layout out: what the reference loaders read equals what the pipeline uses."""

import json

import numpy as np
import pyarrow as pa
import pytest
import torch
from PIL import Image

from tests.person.test_prep import LIMITS, NoModel, _viton_person
from tests.person.test_representation import reference_style
from vton.imageio import encode_image
from vton.person.frame import frame_person
from vton.person.labels import NECK
from vton.person.prep import load_person_asset, prepare_person
from vton.person.representation import HEAD_LABELS, Variant, representation_for_person
from vton.person.viton import export_viton, latest_run_id, read_viton_persons, viton_parse
from vton.runs import write_plan
from vton.schemas import PLAN_SCHEMA
from vton.storage import Store


def _cloth(store: Store, product_id: str, colour) -> str:
    key = f"assets/cloth/{product_id}/d{product_id}"
    cloth = np.full((256, 192, 3), 255, np.uint8)
    mask = np.zeros((256, 192), np.uint8)
    cloth[40:220, 30:160] = colour
    mask[40:220, 30:160] = 255
    store.write_bytes(f"{key}/cloth.png", encode_image(cloth))
    store.write_bytes(f"{key}/cloth-mask.png", encode_image(mask))
    return key


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("viton")
    store = Store(str(tmp / "store"))
    persons = {}
    for name, size in (("p1", (512, 384)), ("p2", (600, 300))):
        _, row = _viton_person(tmp, name, size=size)
        res = prepare_person(store, row, NoModel(), **LIMITS)
        assert res.status == "ok", res.error
        persons[name] = res.key
    cloth = {
        "tee": _cloth(store, "tee", (200, 30, 30)),
        "tank": _cloth(store, "tank", (30, 30, 200)),
    }
    rows = [
        {"pair_id": f"{c}--{p}", "shard": 0, "product_id": c, "person_id": p,
         "cloth_key": cloth[c], "person_key": persons[p]}
        for c in cloth for p in persons
    ]  # fmt: skip
    rows.append({"pair_id": "zz--bad", "shard": 0, "product_id": "tee", "person_id": "bad",
                 "status": "invalid", "error": "no person detected"})  # fmt: skip
    write_plan(store, "20261101T000000Z-aaaaaa", pa.Table.from_pylist(rows[:1], schema=PLAN_SCHEMA))
    write_plan(store, "20261124T000000Z-bbbbbb", pa.Table.from_pylist(rows, schema=PLAN_SCHEMA))
    out = tmp / "viton"
    return store, persons, out, export_viton(store, out)


def test_layout_and_pairs(exported):
    store, persons, out, summary = exported
    assert latest_run_id(store) == summary.run_id == "20261124T000000Z-bbbbbb"
    assert (summary.pairs, summary.persons, summary.garments) == (4, 2, 2)
    lines = (out / "test_pairs.txt").read_text().splitlines()
    assert sorted(lines) == sorted(f"{p}.jpg {c}.jpg" for c in ("tee", "tank") for p in persons)
    for p in persons:
        for sub, name in (("image", f"{p}.jpg"), ("image-parse", f"{p}.png"),
                          ("image-parse-new", f"{p}.png"), ("image-mask", f"{p}.png"),
                          ("pose", f"{p}_keypoints.json")):  # fmt: skip
            assert (out / "test" / sub / name).is_file(), (sub, name)
        with Image.open(out / "test" / "image" / f"{p}.jpg") as im:
            assert im.size == (192, 256) and im.format == "JPEG"
        parse = np.array(Image.open(out / "test" / "image-parse" / f"{p}.png"))
        new = np.array(Image.open(out / "test" / "image-parse-new" / f"{p}.png"))
        assert parse.shape == (256, 192) and parse.max() <= 19 and (new == NECK).any()
        assert np.array_equal(parse, viton_parse(new))
        pose = json.loads((out / "test" / "pose" / f"{p}_keypoints.json").read_text())
        assert len(pose["people"][0]["pose_keypoints"]) == 54
    for c in ("tee", "tank"):
        cm = np.array(Image.open(out / "test" / "cloth-mask" / f"{c}.jpg"))
        assert ((cm >= 128) == (np.arange(256)[:, None] >= 40) & (np.arange(256)[:, None] < 220)
                & (np.arange(192)[None] >= 30) & (np.arange(192)[None] < 160)).all()  # fmt: skip
    assert not (out / ".tmp").exists()


@pytest.mark.parametrize("variant", [Variant.CP_VTON, Variant.CP_VTON_PLUS_TOM])
def test_reference_loader_on_the_export_matches_the_pipeline(exported, variant):
    store, persons, out, _ = exported
    for p, key in persons.items():
        ours = representation_for_person(frame_person(load_person_asset(store, key)), variant)
        d = out / "test"
        image = np.array(Image.open(d / "image" / f"{p}.jpg"))
        if variant is Variant.CP_VTON:
            parse = np.array(Image.open(d / "image-parse" / f"{p}.png"))
            shape_mask = parse > 0
        else:
            parse = np.array(Image.open(d / "image-parse-new" / f"{p}.png"))
            shape_mask = np.array(Image.open(d / "image-mask" / f"{p}.png")) > 0
        kp = np.array(
            json.loads((d / "pose" / f"{p}_keypoints.json").read_text())["people"][0][
                "pose_keypoints"
            ]
        ).reshape(-1, 3)
        ref = reference_style(image, parse, kp, HEAD_LABELS[variant], shape_mask)
        assert torch.equal(ours[0], ref[0])  # shape
        assert torch.equal(ours[4:], ref[4:])  # pose squares
        assert torch.equal(ours[1:4] == -1, ref[1:4] == -1)  # head region
        assert (ours[1:4] - ref[1:4]).abs().mean() < 0.02  # head RGB up to JPEG loss


def test_exported_layout_reads_back_as_precomputed_inputs(exported):
    store, persons, out, _ = exported
    rows = read_viton_persons(out)
    assert sorted(r.person_id for r in rows) == sorted(persons)
    back = Store("memory://viton-read-back")
    for row in rows:
        assert row.pose.endswith(f"pose/{row.person_id}_keypoints.json")
        assert row.parse.endswith(f"image-parse/{row.person_id}.png")
        res = prepare_person(back, row, NoModel(), **LIMITS)  # no model: all precomputed
        assert res.status == "ok", res.error
        again = load_person_asset(back, res.key)
        framed = frame_person(load_person_asset(store, persons[row.person_id]))
        assert np.array_equal(again.parse, viton_parse(framed.parse))
        assert np.allclose(again.keypoints, framed.keypoints, atol=1e-3)


def test_export_needs_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run"):
        export_viton(Store(str(tmp_path / "empty")), tmp_path / "out")
