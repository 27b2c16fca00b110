"""Use cases behind small ports."""
