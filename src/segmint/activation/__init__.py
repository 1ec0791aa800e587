"""Activation: audiences written as the files email and ad platforms accept, with consent,
suppression and exclusions enforced, every export recorded, and the right to erasure."""
