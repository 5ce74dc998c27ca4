"""Tests of the face engine and the imaging ground layer, on two real faces."""
