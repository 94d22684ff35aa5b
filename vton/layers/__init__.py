"""Building blocks shared by the CP-VTON / CP-VTON+ networks (after `timm.layers`).

Attribute names inside these blocks are part of the published checkpoints' key format;
never rename them.
"""

from vton.layers.correlation import FeatureCorrelation, feature_correlation
from vton.layers.feature_extraction import FeatureExtraction, FeatureL2Norm, feature_l2norm
from vton.layers.tps_grid import TpsGridGen, identity_grid, tps_control_points, tps_kernel
from vton.layers.unet import UnetSkipConnectionBlock, build_unet
from vton.layers.upsample_conv import upsample_conv3x3
from vton.layers.warp import warp_cloth, warp_for_tom, warp_mask

__all__ = [
    "FeatureCorrelation",
    "FeatureExtraction",
    "FeatureL2Norm",
    "TpsGridGen",
    "UnetSkipConnectionBlock",
    "build_unet",
    "feature_correlation",
    "feature_l2norm",
    "identity_grid",
    "tps_control_points",
    "tps_kernel",
    "upsample_conv3x3",
    "warp_cloth",
    "warp_for_tom",
    "warp_mask",
]
