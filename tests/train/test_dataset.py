"""The VITON reader gives the tensors the references' CPDataset gives; the data order is a
function of the step."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from vton.imageio import encode_image
from vton.person.keypoints import BODY25, COCO18
from vton.person.labels import encode_labels
from vton.storage import Store
from vton.train.dataset import (
    StepBatchSampler,
    StoreAssetDataset,
    VitonDataset,
    batch_indices,
    pair_tensors,
    read_pairs,
    same_cloth_viton,
)


def _t(arr: np.ndarray) -> torch.Tensor:
    """torchvision's ToTensor + Normalize(0.5, 0.5) for HWC or HW uint8."""
    a = torch.from_numpy(np.asarray(arr, np.float32) / 255.0)
    a = a.permute(2, 0, 1) if a.ndim == 3 else a[None]
    return (a - 0.5) / 0.5


def reference_item(root: str, im_name: str, c_name: str, plus: bool) -> dict:
    """What CP-VTON(+)'s CPDataset.__getitem__ computes for the GMM stage, restated with
    PIL and NumPy from the description of its steps (not from this project's code)."""
    d = os.path.join(root, "train")
    stem = im_name[:-4]
    c = _t(np.array(Image.open(f"{d}/cloth/{c_name}")))
    cm = torch.from_numpy(
        (np.array(Image.open(f"{d}/cloth-mask/{c_name}")) >= 128).astype(np.float32)
    )[None]
    im = _t(np.array(Image.open(f"{d}/image/{im_name}")))
    parse = np.array(Image.open(f"{d}/{'image-parse-new' if plus else 'image-parse'}/{stem}.png"))
    if plus:
        shape_src = (np.array(Image.open(f"{d}/image-mask/{stem}.png")) > 0).astype(np.float32)
        head_labels = (1, 4, 13)
    else:
        shape_src = (parse > 0).astype(np.float32)
        head_labels = (1, 2, 4, 13)
    head = np.isin(parse, head_labels).astype(np.float32)
    pcm = torch.from_numpy(np.isin(parse, (5, 6, 7)).astype(np.float32))
    s = Image.fromarray((shape_src * 255).astype(np.uint8))
    s = s.resize((192 // 16, 256 // 16), Image.BILINEAR).resize((192, 256), Image.BILINEAR)
    shape = _t(np.array(s))
    phead = torch.from_numpy(head)
    with open(f"{d}/pose/{stem}_keypoints.json") as fh:
        pose = np.array(json.load(fh)["people"][0]["pose_keypoints"]).reshape(-1, 3)
    maps = torch.zeros(len(pose), 256, 192)
    for i, (x, y, _) in enumerate(pose):
        one = Image.new("L", (192, 256))
        if x > 1 and y > 1:
            ImageDraw.Draw(one).rectangle((x - 5, y - 5, x + 5, y + 5), "white", "white")
        maps[i] = _t(np.array(one))[0]
    return {
        "cloth": c,
        "cloth_mask": cm,
        "image": im,
        "agnostic": torch.cat([shape, im * phead - (1 - phead), maps], 0),
        "parse_cloth": im * pcm + (1 - pcm),
    }


@pytest.mark.parametrize("variant", ["cpvton", "cpvton_plus"])
def test_items_equal_the_reference_loader(viton_root, variant):
    ds = VitonDataset(viton_root, stage="gmm", variant=variant)
    assert len(ds) == 4
    for i in (0, 3):
        item = ds[i]
        ref = reference_item(viton_root, item["im_name"], item["c_name"], variant != "cpvton")
        for key, want in ref.items():
            torch.testing.assert_close(item[key], want, rtol=0, atol=1e-6, msg=key)
        assert item["parse_cloth_mask"].sum() > 500  # the shirt is there
        assert torch.equal(item["shape"], item["agnostic"][:1])


def test_tom_items_read_the_warps_named_as_each_reference_names_them(viton_root):
    for variant in ("cpvton", "cpvton_plus"):
        item = VitonDataset(viton_root, stage="tom", variant=variant)[1]
        # the synthetic warps are the worn shirt: exactly the GMM's target region
        assert torch.equal(item["cloth_mask"], item["parse_cloth_mask"])
        assert "agnostic_gmm" not in item
    plus = VitonDataset(viton_root, stage="tom", variant="cpvton_plus", warped_from="gmm")[1]
    gmm = VitonDataset(viton_root, stage="gmm", variant="cpvton_plus")[1]
    assert torch.equal(plus["agnostic_gmm"], gmm["agnostic"])
    assert not torch.equal(plus["agnostic"], gmm["agnostic"])  # CP-VTON+ TOM keeps hair, legs


def test_body25_pose_files_give_the_same_tensors(viton_root, tmp_path):
    ds = VitonDataset(viton_root, stage="gmm", variant="cpvton")
    want = ds[0]
    root = Store(viton_root)
    copy = Store(str(tmp_path))
    for key in root.list_keys("train"):
        copy.write_bytes(key, root.read_bytes(key))
    copy.write_bytes("train_pairs.txt", root.read_bytes("train_pairs.txt"))
    stem = want["im_name"][:-4]
    kp = np.array(
        json.loads(root.read_text(f"train/pose/{stem}_keypoints.json"))["people"][0][
            "pose_keypoints"
        ]
    ).reshape(18, 3)
    kp25 = np.zeros((25, 3))
    for j, name in enumerate(COCO18):
        kp25[BODY25.index(name)] = kp[j]
    other = {"pose_keypoints_2d": [0.0] * 75}  # a second, smaller (empty) person
    copy.write_text(
        f"train/pose/{stem}_keypoints.json",
        json.dumps({"people": [{"pose_keypoints_2d": kp25.reshape(-1).tolist()}, other]}),
    )
    got = VitonDataset(str(tmp_path), stage="gmm", variant="cpvton")[0]
    assert torch.equal(got["agnostic"], want["agnostic"])


def test_bad_pairs_and_sizes_are_refused(tmp_path):
    store = Store(str(tmp_path))
    store.write_text("p.txt", "a.jpg b.jpg\nonly-one\n")
    with pytest.raises(ValueError, match="line 2"):
        read_pairs(store, "p.txt")
    store.write_text("p.txt", "a.jpg b.jpg\n")
    store.write_bytes("train/image/a.jpg", encode_image(np.zeros((100, 80, 3), np.uint8), "jpg"))
    with pytest.raises(ValueError, match="80x100"):
        VitonDataset(str(tmp_path), data_list="p.txt")[0]
    assert same_cloth_viton("000001_0.jpg", "000001_1.jpg")
    assert not same_cloth_viton("000001_0.jpg", "000002_1.jpg")


def test_store_assets_give_the_same_items_as_their_arrays(viton_root, tmp_path):
    """A prepared person (any photo size) and garment, as prep writes them."""
    from vton.person.frame import frame_person
    from vton.person.prep import load_person_asset
    from vton.person.synthetic import synthetic_person

    store = Store(str(tmp_path))
    p = synthetic_person(400, 300)
    pkey, ckey = "assets/person/p1/abc", "assets/cloth/c1/def"
    store.write_bytes(f"{pkey}/image.jpg", encode_image(p.image, "jpg", 95))
    store.write_bytes(f"{pkey}/mask.png", encode_image(p.mask))
    store.write_bytes(f"{pkey}/parse.png", encode_labels(p.labels))
    store.write_text(f"{pkey}/pose.json", "{}")
    store.write_text(
        f"{pkey}/meta.json", json.dumps({"keypoints": p.keypoints.tolist(), "parse": "parse.png"})
    )
    src = Store(viton_root)
    store.write_bytes(f"{ckey}/cloth.png", src.read_bytes("train/cloth/000000_1.jpg"))
    store.write_bytes(f"{ckey}/cloth-mask.png", src.read_bytes("train/cloth-mask/000000_1.jpg"))
    store.write_text(f"{ckey}/meta.json", "{}")
    store.write_text("pairs.txt", "p1 c1\n")  # bare ids resolve to the one asset each
    ds = StoreAssetDataset(str(tmp_path), stage="gmm", variant="cpvton_plus", data_list="pairs.txt")
    assert ds.pairs == [(pkey, ckey)]
    item = ds[0]
    framed = frame_person(load_person_asset(store, pkey))
    ref = VitonDataset(viton_root, stage="gmm", variant="cpvton_plus")[0]
    want = pair_tensors(
        framed.image,
        framed.parse,
        framed.keypoints,
        np.array(Image.open(os.path.join(viton_root, "train/cloth/000000_1.jpg"))),
        np.where(
            np.array(Image.open(os.path.join(viton_root, "train/cloth-mask/000000_1.jpg"))) >= 128,
            255,
            0,
        ).astype(np.uint8),
        variant="cpvton_plus",
        stage="gmm",
        body_mask=framed.mask,
    )
    for key in ("agnostic", "image", "parse_cloth", "cloth", "cloth_mask"):
        assert torch.equal(item[key], want[key]), key
    assert torch.equal(item["cloth"], ref["cloth"])
    with pytest.raises(ValueError, match="warped_from"):
        StoreAssetDataset(str(tmp_path), stage="tom", data_list="pairs.txt", warped_from="files")


def test_data_order_is_a_function_of_the_step():
    n, gb = 10, 4
    steps = [batch_indices(s, n, gb, seed=3) for s in range(6)]
    assert all(len(b) == gb for b in steps)
    # two steps per epoch (last partial batch dropped), each epoch without repeats
    for e in range(3):
        seen = steps[2 * e] + steps[2 * e + 1]
        assert len(set(seen)) == 8
    assert steps[0] != steps[2]  # a new order each epoch
    assert steps == [batch_indices(s, n, gb, seed=3) for s in range(6)]
    assert batch_indices(0, 3, 8) and len(batch_indices(0, 3, 8)) == 8  # tiny set repeats
    # resuming at step 3 reads what an uninterrupted run reads from step 3
    full = list(StepBatchSampler(n, gb, start_step=0, stop_step=6, seed=3))
    assert list(StepBatchSampler(n, gb, start_step=3, stop_step=6, seed=3)) == full[3:]
    # two ranks take disjoint halves of each global batch
    r0 = list(StepBatchSampler(n, 2, start_step=0, stop_step=6, seed=3, rank=0, world_size=2))
    r1 = list(StepBatchSampler(n, 2, start_step=0, stop_step=6, seed=3, rank=1, world_size=2))
    assert [a + b for a, b in zip(r0, r1, strict=True)] == full
