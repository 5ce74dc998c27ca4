"""IJS photo consent and vetting station."""
