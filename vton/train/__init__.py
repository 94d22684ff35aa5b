"""Training and evaluating CP-VTON / CP-VTON+ GMM and TOM on VITON-layout data or on the
pipeline's own prepared assets.

`train(TrainSettings(...))` trains or resumes one network; `evaluate(EvalSettings(...))`
writes CP-VTON+'s Table 1 metrics. Final weights are plain state dicts that
`vton.models.load_model` and the reference code load.
"""

from vton.train.config import EvalSettings, TrainSettings
from vton.train.dataset import StepBatchSampler, StoreAssetDataset, VitonDataset, make_dataset
from vton.train.evaluate import EvalResult, evaluate
from vton.train.losses import VGGLoss, gic_loss
from vton.train.schedule import ConstantThenLinear, make_scheduler
from vton.train.synthetic import write_synthetic_viton
from vton.train.trainer import TrainResult, train
from vton.train.vgg import Vgg19Features, load_vgg19

__all__ = [
    "ConstantThenLinear",
    "EvalResult",
    "EvalSettings",
    "StepBatchSampler",
    "StoreAssetDataset",
    "TrainResult",
    "TrainSettings",
    "VGGLoss",
    "Vgg19Features",
    "VitonDataset",
    "evaluate",
    "gic_loss",
    "load_vgg19",
    "make_dataset",
    "make_scheduler",
    "train",
    "write_synthetic_viton",
]
