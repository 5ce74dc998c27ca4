"""Data subjects' rights and accountability: erasure and subject-access exports, retention
sweeps, reading and verifying the audit log, and backups of the whole register (a school must be
able to restore its evidence of consent) and restoring them.
"""
