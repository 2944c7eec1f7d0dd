"""Turning a decision into words, blocks, records and charts; never changes the verdict."""
