"""Benchmarks of the face engine (not shipped; results go to bench/out/, which git ignores)."""
