"""Campaigns and A/B tests: deterministic assignment to variants and a holdout, sizing before
launch, and honest reports of what a campaign caused (``docs/campaigns.md``)."""
