"""FID and KID over features of a configured extractor (no network is downloaded).

FID (Heusel et al., NeurIPS 2017): ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`` of
Gaussian fits to two feature sets. KID (Binkowski et al., ICLR 2018): the unbiased MMD^2
with the kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over random subsets; unbiased, so
it is meaningful for the few hundred images of VITON's test set, where FID is biased.

Both are only as comparable as their features: numbers match published ones only with the
same Inception weights (e.g. clean-fid's TorchScript `inception-2015-12-05.pt`) and the same
resizing. The extractor is an exported (`torch.export`, ``.pt2``) or TorchScript module
taking (B, 3, S, S) float32 in [0, 255] and returning (B, D) (or (B, D, 1, 1)) features;
images are resized to S x S bilinearly.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["load_feature_extractor", "extract_features", "fid_from_features", "kid_from_features"]


def load_feature_extractor(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> torch.nn.Module:
    """A feature extractor from `path` (never downloaded): a `torch.export` archive
    (``.pt2``) or a TorchScript file (anything else, e.g. clean-fid's Inception)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"feature extractor not found: {path}")
    try:
        if os.fspath(path).endswith(".pt2"):
            return torch.export.load(os.fspath(path)).module().to(device)
        return torch.jit.load(os.fspath(path), map_location=device).eval()
    except Exception as exc:
        raise ValueError(f"{path}: not a torch.export or TorchScript module ({exc})") from None


@torch.no_grad()
def extract_features(
    extractor: torch.nn.Module, images: torch.Tensor, size: int = 299
) -> np.ndarray:
    """(B, 3, H, W) float in [-1, 1] -> (B, D) float64 features of `extractor`."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) images, got {tuple(images.shape)}")
    x = (images.float().clamp(-1, 1) + 1) * 127.5
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    device = next(iter(extractor.parameters()), torch.empty(0)).device
    f = extractor(x.to(device))
    if isinstance(f, (tuple, list)):
        f = f[0]
    return f.reshape(f.shape[0], -1).double().cpu().numpy()


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """FID of two (N, D) feature sets (N >= 2 each)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"expected (N, D) and (M, D) features, N, M >= 2, got {a.shape}, "
                         f"{b.shape}")  # fmt: skip
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    s_a, s_b = np.atleast_2d(s_a), np.atleast_2d(s_b)
    root = _sqrt_psd(s_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s_b @ root), 0, None)).sum()
    fid = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)
    return max(fid, 0.0)


def kid_from_features(
    a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID (mean, std over subsets) of two (N, D) feature sets; subsets of
    ``min(subset_size, N, M)`` >= 2 rows drawn without replacement, seeded."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected (N, D) and (M, D) features, got {a.shape}, {b.shape}")
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 images per set, got {len(a)} and {len(b)}")
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        mmd = (
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values))
