"""Tests of the person stage: parsing, representation, VITON layout in and out."""
