"""Tests of masking, rendering and the metadata-free encoder."""
