"""The service layer: the only code that changes data.

Every mutating function takes the acting user, checks the role, writes one audit entry and runs
in one transaction (see `Station.write`). The GUI and the CLI are thin fronts over these.
"""
