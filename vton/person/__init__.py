"""The person stage: pose keypoints (OpenPose COCO-18) and body segmentation of a model
photo, stored as assets that renderers and CP-VTON's person representation use."""
