"""HTTP push adapter: signed JSON batches from IoT carrier platforms."""
