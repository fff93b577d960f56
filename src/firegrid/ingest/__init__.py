"""Device ingest: protocol adapters, the normalised DeviceEvent and the durable event log."""
