"""The door every service goes through, and what all of them stand on.

`station` opens the register (database, vault, key) and gives the one way to change data:
`Station.write(actor, action, *roles)` checks the role, runs one transaction and demands one audit
entry. Beside it: the station's settings, users and logins, look-ups by name or id, the rule that
says whether a consent counts today (`standing`), and the crash-safe posting folder store (kept
here because every start settles what a killed export left behind).
"""
