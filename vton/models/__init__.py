"""CP-VTON and CP-VTON+ networks that load the published checkpoints (after `timm.models`).

Load a checkpoint whatever its variant with `load_model(path, kind="gmm")`; build an
untrained network with a factory (`gmm_cpvton_plus()`) or `create_model(name)`.
"""

from vton.models._registry import create_model, list_models
from vton.models.checkpoints import (
    CHECKPOINTS,
    CheckpointCfg,
    checkpoint_sha256,
    detect_checkpoint,
    load_model,
    load_weights,
    model_digest,
    read_state_dict,
)
from vton.models.cpvton_gmm import CpVtonGmm, gmm_cpvton, gmm_cpvton_plus
from vton.models.cpvton_tom import CpVtonTom, TomOutput, tom_cpvton, tom_cpvton_plus

__all__ = [
    "CHECKPOINTS",
    "CheckpointCfg",
    "CpVtonGmm",
    "CpVtonTom",
    "TomOutput",
    "create_model",
    "detect_checkpoint",
    "checkpoint_sha256",
    "gmm_cpvton",
    "gmm_cpvton_plus",
    "list_models",
    "load_model",
    "load_weights",
    "model_digest",
    "read_state_dict",
    "tom_cpvton",
    "tom_cpvton_plus",
]
