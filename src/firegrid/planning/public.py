"""The planning context's public surface for the composition root (the API app)."""

from firegrid.planning.jobs import recover_interrupted_jobs, start_job_runner

__all__ = ["recover_interrupted_jobs", "start_job_runner"]
