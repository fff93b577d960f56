"""Operating firegrid: Prometheus metrics of every process (``metrics.py``), served by the API
at ``GET /metrics`` (``api.py``) and by the ingest and alarms processes on
``FIREGRID_METRICS_LISTEN``."""
