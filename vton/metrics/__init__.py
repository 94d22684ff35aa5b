"""Try-on quality metrics, laid out like CP-VTON+'s Table 1 (IoU, SSIM, LPIPS, IS/FID).

`ssim`, `mask_iou` and `inception_score` (from logits) need nothing; LPIPS, FID/KID and the
IS classifier need weights that cannot be downloaded here, so they take file paths and are
reported as "not configured" without them.
"""

from vton.metrics.fid import fid_from_features, kid_from_features, load_feature_extractor
from vton.metrics.inception_score import inception_score
from vton.metrics.iou import mask_iou
from vton.metrics.lpips import Lpips, load_lpips
from vton.metrics.report import METHOD_COLUMNS, write_report
from vton.metrics.ssim import ssim

__all__ = [
    "METHOD_COLUMNS",
    "Lpips",
    "fid_from_features",
    "inception_score",
    "kid_from_features",
    "load_feature_extractor",
    "load_lpips",
    "mask_iou",
    "ssim",
    "write_report",
]
