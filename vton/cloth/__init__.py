"""The cloth stage: cut the garment out of its product photo, classify it, and normalise it
onto CP-VTON's canvas (the VITON dataset's `cloth/` and `cloth-mask/`)."""
