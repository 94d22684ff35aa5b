"""Inception Score (Salimans et al., NeurIPS 2016) from a classifier's logits.

``IS = exp(mean_x KL(p(y|x) || p(y)))``, where ``p(y|x)`` is the softmax of an image's
logits and ``p(y)`` their mean over the images of a split. It is 1 when every image gets
the same class distribution and C (the number of classes) when every image is confidently
one class and the classes are used evenly. As in OpenAI's `inception_score.py` (and
torch-fidelity, and so the numbers papers such as CP-VTON+ report), the images are cut into
`splits` consecutive parts, the score is computed per part, and the mean and the
(population) standard deviation over the parts are reported.

The score is only as comparable as its classifier: published numbers use Inception v3's
2015-12-05 weights on 299x299 images; see `vton.metrics.fid` for loading one.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["inception_score"]


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))


def inception_score(logits: np.ndarray | torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """IS (mean, std over `splits`) of (N, C) class logits (any float dtype; computed in
    float64, from log-probabilities so that confident logits do not underflow to log 0).

    Split k holds rows ``k * N // splits .. (k + 1) * N // splits``, as OpenAI's code cuts
    them; needs ``1 <= splits <= N``.
    """
    if isinstance(logits, torch.Tensor):
        logits = logits.detach().to("cpu", torch.float64).numpy()
    x = np.asarray(logits, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"expected (N, C) logits with N, C >= 1, got shape {x.shape}")
    n = x.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be in 1..{n} (the number of images), got {splits}")
    if not np.isfinite(x).all():
        raise ValueError("logits must be finite")
    log_p = _log_softmax(x)
    scores = []
    for k in range(splits):
        part = log_p[k * n // splits : (k + 1) * n // splits]
        # log of the split's mean distribution, as a log-mean-exp
        m = part.max(axis=0, keepdims=True)
        log_py = m + np.log(np.exp(part - m).mean(axis=0, keepdims=True))
        kl = (np.exp(part) * (part - log_py)).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))
