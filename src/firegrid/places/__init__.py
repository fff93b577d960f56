"""The city model: jurisdictions, venues, buildings, addresses, coordinate systems."""
