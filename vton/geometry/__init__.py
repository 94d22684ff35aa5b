"""Geometry shared by renderers and the person stage: thin-plate splines and their
sampling maps (`tps`), limb capsules rasterised to masks (`capsules`)."""
