"""`vton evaluate`: CP-VTON+'s Table 1 metrics for a GMM/TOM pair on a pairs file.

For every pair the warped cloth mask and the try-on come either from running the given
checkpoints (as the references' test.py: the warped mask is read back as an 8-bit image,
``>= 128``) or from folders of saved results named by person image. Then:

- IoU (`vton.metrics.iou`): warped mask vs the person's cloth region (LIP 5, 6, 7),
  same-cloth pairs only (elsewhere there is no ground truth).
- SSIM (`vton.metrics.ssim`) and, when configured, LPIPS: try-on vs the person photo,
  same-cloth pairs.
- IS (`vton.metrics.inception_score`), when a classifier is configured: try-ons of the
  different-cloth pairs, as CP-VTON+'s Table 1 reports it (a try-on of the very cloth the
  person wears is a reconstruction, whose realism SSIM and LPIPS already measure).
- FID and KID, when a feature extractor is configured: try-ons of all pairs vs the
  dataset's person photos.

Unconfigured metrics are null in the report, with a note saying what to configure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from vton.imageio import decode_image, decode_mask
from vton.layers import warp_for_tom
from vton.metrics.fid import (
    extract_features,
    fid_from_features,
    kid_from_features,
    load_feature_extractor,
)
from vton.metrics.inception_score import inception_score
from vton.metrics.iou import mask_iou
from vton.metrics.lpips import load_lpips
from vton.metrics.report import write_report
from vton.metrics.ssim import ssim
from vton.models import load_model
from vton.storage import Store
from vton.tensors import image_to_tensor, mask_to_tensor
from vton.train.config import EvalSettings
from vton.train.dataset import make_dataset, same_cloth_viton

__all__ = ["EvalResult", "evaluate"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalResult:
    """The Table 1 row (`vton.metrics.report.METHOD_COLUMNS`) and the files written."""

    row: dict
    uris: dict[str, str]


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def evaluate(settings: EvalSettings, *, log: Callable[[str], None] | None = None) -> EvalResult:
    """Measure and write the report; see the module docstring."""
    say = log or _log.info
    device = torch.device(settings.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    opts = settings.storage_options
    # Running the GMM needs the TOM's items with the GMM's inputs (`agnostic_gmm`, a second
    # person representation for CP-VTON+). Scoring saved results reads none of the
    # representations, so it takes the GMM stage's items: the same in-shop cloth, photo
    # and cloth region, with one representation (which the dataset always builds), not two.
    runs_gmm = bool(settings.gmm_checkpoint)
    dataset = make_dataset(
        settings.source,
        settings.dataroot,
        stage="tom" if runs_gmm else "gmm",
        variant=settings.variant,
        datamode=settings.datamode,
        data_list=settings.data_list,
        radius=settings.radius,
        warped_from="gmm",
        storage_options=opts,
    )
    gmm = tom = None
    if runs_gmm:
        gmm = load_model(
            settings.gmm_checkpoint, kind="gmm", variant=settings.variant, device=device
        )
    if settings.tom_checkpoint:
        tom = load_model(
            settings.tom_checkpoint, kind="tom", variant=settings.variant, device=device
        )
    mask_src = Store(settings.warp_mask_dir, opts) if settings.warp_mask_dir else None
    tryon_src = Store(settings.tryon_dir, opts) if settings.tryon_dir else None
    notes: list[str] = []
    lpips_model = None
    if settings.lpips_backbone and settings.lpips_weights:
        lpips_model = load_lpips(settings.lpips_backbone, settings.lpips_weights, device)
    else:
        notes.append("LPIPS: not configured (lpips_backbone + lpips_weights)")
    extractor = None
    if settings.fid_extractor:
        extractor = load_feature_extractor(settings.fid_extractor, device)
    else:
        notes.append("FID/KID: not configured (fid_extractor)")
    classifier = None
    if settings.is_classifier:
        classifier = load_feature_extractor(settings.is_classifier, device)
    else:
        notes.append("IS: not configured (is_classifier)")
    has_tryon = tom is not None or tryon_src is not None
    if not has_tryon:
        notes.append("SSIM/LPIPS/IS/FID: no try-ons (give tom_checkpoint or tryon_dir)")

    loader = DataLoader(dataset, batch_size=settings.batch_size, shuffle=False)
    pairs: list[dict] = []
    fake_feats, real_feats, real_seen = [], [], set()
    is_logits: list[np.ndarray] = []
    for batch in loader:
        names = list(zip(batch["im_name"], batch["c_name"], strict=True))
        if settings.same_cloth == "all" or (
            settings.same_cloth == "auto" and settings.source == "store"
        ):
            same = [True] * len(names)
        elif settings.same_cloth == "none":
            same = [False] * len(names)
        else:
            same = [same_cloth_viton(i, c) for i, c in names]
        cloth, cmask = batch["cloth"].to(device), batch["cloth_mask"].to(device)
        with torch.no_grad():
            if gmm is not None:
                grid, _ = gmm(
                    batch["agnostic_gmm"].to(device), cloth if gmm.cloth_chans == 3 else cmask
                )
                warped, wmask = warp_for_tom(cloth, cmask, grid)
            else:
                wmask = torch.stack(
                    [mask_to_tensor(decode_mask(mask_src.read_bytes(i), i))[0] for i, _ in names]
                ).to(device)
            tryon = None
            if tom is not None:
                tryon = tom(batch["agnostic"].to(device), warped, wmask).tryon.clamp(-1, 1)
            elif tryon_src is not None:
                tryon = torch.stack(
                    [
                        image_to_tensor(decode_image(tryon_src.read_bytes(i), i).rgb)[0]
                        for i, _ in names
                    ]
                ).to(device)
        image = batch["image"].to(device)
        iou = mask_iou(wmask, batch["parse_cloth_mask"].to(device)).tolist()
        ssims = ssim(tryon, image).tolist() if tryon is not None else [None] * len(names)
        lp = (
            lpips_model(tryon, image).tolist()
            if tryon is not None and lpips_model is not None
            else [None] * len(names)
        )
        for k, (im_name, c_name) in enumerate(names):
            pairs.append(
                {
                    "im_name": im_name,
                    "c_name": c_name,
                    "same_cloth": same[k],
                    "iou": iou[k] if same[k] else None,
                    "ssim": ssims[k] if same[k] else None,
                    "lpips": lp[k] if same[k] else None,
                }
            )
        different = [k for k in range(len(names)) if not same[k]]
        if classifier is not None and tryon is not None and different:
            is_logits.append(
                extract_features(classifier, tryon[different], settings.fid_input_size)
            )
        if extractor is not None and tryon is not None:
            fake_feats.append(extract_features(extractor, tryon, settings.fid_input_size))
            new = [k for k, (i, _) in enumerate(names) if i not in real_seen]
            real_seen.update(names[k][0] for k in new)
            if new:
                real_feats.append(extract_features(extractor, image[new], settings.fid_input_size))
    same_pairs = [p for p in pairs if p["same_cloth"]]
    if not same_pairs:
        notes.append("IoU/SSIM/LPIPS: no same-cloth pairs in the pairs file")
    is_mean = is_std = None
    if is_logits:
        logits = np.concatenate(is_logits)
        splits = min(settings.is_splits, len(logits))
        if splits < settings.is_splits:
            notes.append(
                f"IS: {len(logits)} different-cloth try-ons, so {splits} splits, not "
                f"{settings.is_splits}"
            )
        is_mean, is_std = inception_score(logits, splits)
    elif classifier is not None and has_tryon:
        notes.append("IS: no different-cloth pairs in the pairs file (see same_cloth)")
    fid = kid = kid_std = None
    if fake_feats and real_feats:
        a, b = np.concatenate(fake_feats), np.concatenate(real_feats)
        if min(len(a), len(b)) >= 2:
            fid = fid_from_features(a, b)
            kid, kid_std = kid_from_features(a, b, settings.kid_subsets, settings.kid_subset_size)
        else:
            notes.append("FID/KID: fewer than 2 images")
    row = {
        "method": settings.method,
        "pairs": len(pairs),
        "same_cloth_pairs": len(same_pairs),
        "iou": _mean([p["iou"] for p in same_pairs if p["iou"] is not None]),
        "ssim": _mean([p["ssim"] for p in same_pairs if p["ssim"] is not None]),
        "lpips": _mean([p["lpips"] for p in same_pairs if p["lpips"] is not None]),
        "is": is_mean,
        "is_std": is_std,
        "fid": fid,
        "kid": kid,
        "kid_std": kid_std,
        "notes": "; ".join(notes),
    }
    uris = write_report(Store(os.fspath(settings.output), opts), row, pairs)
    say(
        f"evaluate {settings.method}: {len(pairs)} pairs ({len(same_pairs)} same-cloth) "
        + " ".join(
            f"{k} {row[k]:.4f}"
            for k in ("iou", "ssim", "lpips", "is", "fid", "kid")
            if row[k] is not None
        )
    )
    for n in notes:
        say(f"  {n}")
    return EvalResult(row=row, uris=uris)
