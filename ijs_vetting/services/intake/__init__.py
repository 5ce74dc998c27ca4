"""Photos coming in: importing iPad folders (provenance, duplicates, the school's devices),
vetting every face against the register, and the human review of what vetting could not decide.
"""
