"""Training pairs as the reference data loaders give them, from a VITON-layout dataroot or
from this pipeline's own prepared assets.

`VitonDataset` reads CP-VTON's and CP-VTON+'s layout (`cp_dataset.py` of
github.com/sergeywong/cp-vton and github.com/minar09/cp-vton-plus, MIT) and builds the same
tensors their `CPDataset.__getitem__` builds, under the same keys:

- ``cloth`` (3, 256, 192) in [-1, 1] and ``cloth_mask`` (1, 256, 192) in {0, 1}
  (``>= 128``): `cloth/` and `cloth-mask/` for the GMM; for the TOM the GMM's outputs,
  `warp-cloth/` and `warp-mask/`, named by the cloth (CP-VTON) or the person (CP-VTON+).
- ``image`` (3, H, W) in [-1, 1]: the person photo.
- ``agnostic`` (22, H, W) in [-1, 1]: `vton.person.representation` (body shape, head,
  pose squares), with the variant's head labels and body shape (CP-VTON+ reads
  `image-parse-new/` and the body mask `image-mask/`; CP-VTON `image-parse/`).
- ``parse_cloth`` (3, H, W): the photo inside the upper-clothes labels (5, 6, 7), 1 (white)
  elsewhere, the GMM's target; ``parse_cloth_mask`` (1, H, W) {0, 1}: those labels,
  CP-VTON+'s TOM mask target.
- ``shape`` (1, H, W), ``head`` (3, H, W): channels 0 and 1-3 of ``agnostic``.
- ``c_name``, ``im_name``: the pair's names.

With a frozen GMM computing the TOM's warps on the fly, items also carry ``agnostic_gmm``
(CP-VTON+'s GMM and TOM head labels differ) and the unwarped cloth.

Differences from the reference, on purpose: pose files are read with
`vton.person.keypoints.read_openpose` (the largest person, `pose_keypoints` or
`pose_keypoints_2d`, BODY_25 converted to COCO-18), where the reference takes
``people[0]['pose_keypoints']`` and fails on the others; for VITON's own files the tensors
are the same.

`StoreAssetDataset` gives the same items from prepared assets (`vton.person.prep`,
`vton.cloth.prep`): the person placed in the 256x192 frame (`vton.person.frame`), the
garment's `cloth.png` / `cloth-mask.png`.

`StepBatchSampler` fixes the data order as a function of the step alone (a seeded
permutation per epoch), so a resumed run reads exactly the batches an uninterrupted run
would, and under torchrun each rank reads its own slice of every global batch.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler

from vton.imageio import decode_image, decode_mask, resize_image, resize_mask
from vton.person.frame import FRAME_SIZE, frame_person
from vton.person.keypoints import read_openpose
from vton.person.labels import decode_labels
from vton.person.prep import load_person_asset
from vton.person.representation import Variant, person_representation
from vton.storage import Store
from vton.tensors import image_to_tensor, mask_to_tensor

__all__ = [
    "CLOTH_LABELS",
    "VitonDataset",
    "StoreAssetDataset",
    "StepBatchSampler",
    "batch_indices",
    "make_dataset",
    "pair_tensors",
    "read_pairs",
    "same_cloth_viton",
]

#: LIP labels of the garment region a GMM learns to cover: upper clothes, dress, coat.
CLOTH_LABELS = (5, 6, 7)


def read_pairs(store: Store, key: str) -> list[tuple[str, str]]:
    """A pairs file -> [(person, cloth)]: two names per non-empty line, as the references'
    `data_list`. Raises ValueError naming the line for anything else."""
    pairs = []
    for n, line in enumerate(store.read_text(key).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ValueError(f"{store.uri(key)} line {n}: expected two names, got {line!r}")
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise ValueError(f"{store.uri(key)}: no pairs")
    return pairs


def same_cloth_viton(im_name: str, c_name: str) -> bool:
    """VITON's naming: person `000001_0.jpg` wears cloth `000001_1.jpg`."""
    a, b = im_name.rsplit(".", 1)[0], c_name.rsplit(".", 1)[0]
    return "_" in a and "_" in b and a.rsplit("_", 1)[0] == b.rsplit("_", 1)[0]


def _rep_variant(variant: str, stage: str) -> Variant:
    if variant == "cpvton":
        return Variant.CP_VTON
    if variant != "cpvton_plus":
        raise ValueError(f"variant must be 'cpvton' or 'cpvton_plus', got {variant!r}")
    return Variant.CP_VTON_PLUS_GMM if stage == "gmm" else Variant.CP_VTON_PLUS_TOM


def pair_tensors(
    image: np.ndarray,
    parse: np.ndarray,
    keypoints: np.ndarray,
    cloth: np.ndarray,
    cloth_mask: np.ndarray,
    *,
    variant: str,
    stage: str,
    body_mask: np.ndarray | None = None,
    radius: int = 5,
    gmm_agnostic: bool = False,
) -> dict[str, torch.Tensor]:
    """One pair's tensors, as the references' `CPDataset.__getitem__` (see the module
    docstring for the keys).

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB person photo at 256x192.
    parse : (H, W) uint8 LIP ids.
    keypoints : (18, 3) float COCO-18 (x, y, confidence) in pixels.
    cloth, cloth_mask : (H, W, 3) uint8 RGB and (H, W) uint8 {0, 255} (thresholded at 128):
        the in-shop garment for the GMM, its warp for the TOM.
    variant : ``cpvton`` or ``cpvton_plus``; stage : ``gmm`` or ``tom``.
    body_mask : (H, W) uint8, > 0 is body: CP-VTON+'s body shape (None: ``parse > 0``).
    gmm_agnostic : also return ``agnostic_gmm``, the GMM's representation.
    """
    if cloth.shape[:2] != image.shape[:2] or cloth_mask.shape != image.shape[:2]:
        raise ValueError(
            f"cloth {cloth.shape} / cloth mask {cloth_mask.shape} do not match the person "
            f"image {image.shape}"
        )
    rep = person_representation(
        image, parse, keypoints, _rep_variant(variant, stage), body_mask=body_mask, radius=radius
    )
    im = image_to_tensor(image)[0]
    pcm = torch.from_numpy(np.isin(parse, CLOTH_LABELS).astype(np.float32))[None]
    out = {
        "cloth": image_to_tensor(cloth)[0],
        "cloth_mask": mask_to_tensor(cloth_mask)[0],
        "image": im,
        "agnostic": rep,
        "parse_cloth": im * pcm + (1 - pcm),
        "parse_cloth_mask": pcm,
        "shape": rep[0:1],
        "head": rep[1:4],
    }
    if gmm_agnostic:
        out["agnostic_gmm"] = (
            rep
            if variant == "cpvton"
            else person_representation(
                image,
                parse,
                keypoints,
                _rep_variant(variant, "gmm"),
                body_mask=body_mask,
                radius=radius,
            )
        )
    return out


class _PairDataset(Dataset):
    """Common checks of the two datasets."""

    def __init__(self, stage: str, variant: str, radius: int, warped_from: str) -> None:
        if stage not in ("gmm", "tom"):
            raise ValueError(f"stage must be 'gmm' or 'tom', got {stage!r}")
        _rep_variant(variant, stage)
        if warped_from not in ("files", "gmm"):
            raise ValueError(f"warped_from must be 'files' or 'gmm', got {warped_from!r}")
        self.stage, self.variant, self.radius, self.warped_from = (
            stage,
            variant,
            radius,
            warped_from,
        )
        self.pairs: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def reads_warps(self) -> bool:
        """TOM items whose cloth is the GMM's saved warp (not the in-shop garment)."""
        return self.stage == "tom" and self.warped_from == "files"

    def _item(
        self,
        image: np.ndarray,
        parse: np.ndarray,
        keypoints: np.ndarray,
        body_mask: np.ndarray | None,
        cloth: np.ndarray,
        cloth_mask: np.ndarray,
        c_name: str,
        im_name: str,
    ) -> dict[str, Any]:
        """The item both sources give, from arrays as `pair_tensors` takes them: a TOM that
        does not read saved warps gets the GMM's inputs too, to warp on the fly."""
        item: dict[str, Any] = pair_tensors(
            image,
            parse,
            keypoints,
            cloth,
            cloth_mask,
            variant=self.variant,
            stage=self.stage,
            body_mask=body_mask,
            radius=self.radius,
            gmm_agnostic=self.stage == "tom" and not self.reads_warps,
        )
        item["c_name"], item["im_name"] = c_name, im_name
        return item


class VitonDataset(_PairDataset):
    """CP-VTON / CP-VTON+ pairs from a VITON-layout dataroot (local or fsspec URL).

    ``dataset[i]`` is a dict of float32 tensors and names; see the module docstring.
    """

    def __init__(
        self,
        dataroot: str | os.PathLike,
        *,
        stage: str = "gmm",
        variant: str = "cpvton_plus",
        datamode: str = "train",
        data_list: str = "train_pairs.txt",
        radius: int = 5,
        warped_from: str = "files",
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(stage, variant, radius, warped_from)
        self.store = Store(os.fspath(dataroot), storage_options)
        self.datamode = datamode
        self.pairs = read_pairs(self.store, data_list)
        self.parse_dir = "image-parse" if variant == "cpvton" else "image-parse-new"

    def _key(self, folder: str, name: str) -> str:
        return f"{self.datamode}/{folder}/{name}"

    def _read(self, folder: str, name: str) -> bytes:
        key = self._key(folder, name)
        try:
            return self.store.read_bytes(key)
        except FileNotFoundError:
            raise FileNotFoundError(f"missing {self.store.uri(key)}") from None

    def _image(self, folder: str, name: str) -> np.ndarray:
        rgb = decode_image(self._read(folder, name), self._key(folder, name)).rgb
        if rgb.shape[:2] != FRAME_SIZE:
            raise ValueError(
                f"{self.store.uri(self._key(folder, name))} is {rgb.shape[1]}x{rgb.shape[0]}; "
                f"the VITON layout is {FRAME_SIZE[1]}x{FRAME_SIZE[0]}"
            )
        return rgb

    def __getitem__(self, index: int) -> dict[str, Any]:
        im_name, c_name = self.pairs[index]
        stem = im_name.rsplit(".", 1)[0]
        image = self._image("image", im_name)
        parse = decode_labels(self._read(self.parse_dir, f"{stem}.png"), f"{stem}.png")
        keypoints, _ = read_openpose(
            self._read("pose", f"{stem}_keypoints.json").decode(), f"{stem}_keypoints.json"
        )
        body = None
        if self.variant == "cpvton_plus":
            raw = np.asarray(Image.open(io.BytesIO(self._read("image-mask", f"{stem}.png"))))
            body = np.where((raw if raw.ndim == 2 else raw.max(-1)) > 0, 255, 0).astype(np.uint8)
        if self.reads_warps:
            # CP-VTON's test.py names warps by the cloth, CP-VTON+'s by the person.
            name = c_name if self.variant == "cpvton" else im_name
            cloth = self._image("warp-cloth", name)
            mask = decode_mask(self._read("warp-mask", name), name)
        else:
            cloth = self._image("cloth", c_name)
            mask = decode_mask(self._read("cloth-mask", c_name), c_name)
        return self._item(image, parse, keypoints, body, cloth, mask, c_name, im_name)


class StoreAssetDataset(_PairDataset):
    """The same items from this pipeline's prepared assets, for fine-tuning on a catalog.

    The pairs file names a person asset and a cloth asset per line: full keys
    (`assets/person/<id>/<digest>`) or bare ids, resolved to the id's one complete asset.
    The TOM can only train here with a GMM warping on the fly (the store has no warps).
    """

    def __init__(
        self,
        store_url: str | os.PathLike,
        *,
        stage: str = "gmm",
        variant: str = "cpvton_plus",
        data_list: str = "train_pairs.txt",
        radius: int = 5,
        warped_from: str = "gmm",
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(stage, variant, radius, warped_from)
        if self.reads_warps:
            raise ValueError('TOM on store assets needs warped_from="gmm" (no warp files)')
        self.store = Store(os.fspath(store_url), storage_options)
        self.pairs = [
            (self._resolve(p, "person"), self._resolve(c, "cloth"))
            for p, c in read_pairs(self.store, data_list)
        ]

    def _resolve(self, name: str, kind: str) -> str:
        if "/" in name:
            key = name.strip("/")
        else:
            metas = [
                k for k in self.store.list_keys(f"assets/{kind}/{name}") if k.endswith("/meta.json")
            ]
            dirs = sorted({k.rsplit("/", 1)[0] for k in metas})
            if len(dirs) != 1:
                found = "none" if not dirs else ", ".join(dirs)
                raise ValueError(
                    f"{kind} {name!r}: expected one prepared asset, found {found}; name the "
                    "asset key in the pairs file"
                )
            key = dirs[0]
        if not self.store.exists(f"{key}/meta.json"):
            raise FileNotFoundError(f"{kind} asset {self.store.uri(key)} is not complete")
        return key

    def __getitem__(self, index: int) -> dict[str, Any]:
        person_key, cloth_key = self.pairs[index]
        framed = frame_person(load_person_asset(self.store, person_key))
        if framed.parse is None:
            raise ValueError(f"person asset {person_key} has no label map; prepare it again")
        cloth = decode_image(self.store.read_bytes(f"{cloth_key}/cloth.png"), cloth_key).rgb
        mask = decode_mask(self.store.read_bytes(f"{cloth_key}/cloth-mask.png"), cloth_key)
        if cloth.shape[:2] != FRAME_SIZE:
            cloth = np.array(resize_image(cloth, FRAME_SIZE))
        if mask.shape != FRAME_SIZE:
            mask = np.array(resize_mask(mask, FRAME_SIZE))
        return self._item(
            framed.image,
            framed.parse,
            framed.keypoints,
            framed.mask,
            cloth,
            mask,
            c_name=cloth_key,
            im_name=person_key,
        )


def make_dataset(
    source: str,
    dataroot: str,
    *,
    stage: str,
    variant: str,
    datamode: str,
    data_list: str,
    radius: int,
    warped_from: str,
    storage_options: Mapping[str, Any] | None = None,
) -> VitonDataset | StoreAssetDataset:
    """The dataset for a settings object's `source` (``viton`` or ``store``)."""
    common: dict[str, Any] = dict(
        stage=stage,
        variant=variant,
        data_list=data_list,
        radius=radius,
        warped_from=warped_from,
        storage_options=storage_options,
    )
    if source == "viton":
        return VitonDataset(dataroot, datamode=datamode, **common)
    if source == "store":
        return StoreAssetDataset(dataroot, **common)
    raise ValueError(f"source must be 'viton' or 'store', got {source!r}")


def batch_indices(
    step: int,
    num_items: int,
    global_batch: int,
    *,
    seed: int = 0,
    shuffle: bool = True,
) -> list[int]:
    """Dataset indices of global batch `step` (0-based): epoch ``step // steps_per_epoch``
    visits a permutation seeded by (seed, epoch) in order, dropping the last partial batch;
    a dataset smaller than one batch is repeated to fill it."""
    if num_items < 1 or global_batch < 1 or step < 0:
        raise ValueError(f"need num_items, global_batch >= 1 and step >= 0, got {num_items}, "
                         f"{global_batch}, {step}")  # fmt: skip
    per_epoch = max(1, num_items // global_batch)
    epoch, j = divmod(step, per_epoch)
    if shuffle:
        gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(num_items, generator=gen)
    else:
        order = torch.arange(num_items)
    if num_items < global_batch:
        order = order.repeat(-(-global_batch // num_items))
    return order[j * global_batch : (j + 1) * global_batch].tolist()


class StepBatchSampler(Sampler[list[int]]):
    """Batches for steps ``start_step .. stop_step - 1`` of one rank: its `batch_size`
    slice of each global batch (`batch_indices` with ``batch_size * world_size``)."""

    def __init__(
        self,
        num_items: int,
        batch_size: int,
        *,
        start_step: int,
        stop_step: int,
        seed: int = 0,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in 0..{world_size - 1}")
        self.num_items, self.batch_size = num_items, batch_size
        self.start_step, self.stop_step = start_step, stop_step
        self.seed, self.shuffle, self.rank, self.world_size = seed, shuffle, rank, world_size

    def __len__(self) -> int:
        return max(0, self.stop_step - self.start_step)

    def __iter__(self) -> Iterator[list[int]]:
        gb = self.batch_size * self.world_size
        lo = self.rank * self.batch_size
        for step in range(self.start_step, self.stop_step):
            idx = batch_indices(step, self.num_items, gb, seed=self.seed, shuffle=self.shuffle)
            yield idx[lo : lo + self.batch_size]
