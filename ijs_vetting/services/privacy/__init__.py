"""Data subjects' rights and accountability: erasure and subject-access exports, retention
sweeps, and reading and verifying the audit log.
"""
