"""The person stage: pose keypoints (OpenPose COCO-18), body mask and LIP label map of a
model photo, stored as assets that renderers and CP-VTON's person representation use.

`keypoints` (COCO-18, OpenPose JSON in and out), `pose` (MediaPipe pose and face
detection), `labels` (the LIP label set and parse files), `parsing` (the label-map estimate
and the ONNX parser interface), `prep` (one photo -> one asset), `frame` (CP-VTON's 256x192
frame), `representation` (CP-VTON's 22 channels), `viton` (the VITON dataset layout in and
out), `synthetic` (drawn persons with exact answers, for tests and benchmarks).
"""
