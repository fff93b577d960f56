"""GB/T 26875.3-2011 adapter (user information transmission device ↔ monitoring centre)."""
