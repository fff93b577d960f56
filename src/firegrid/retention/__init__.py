"""Record retention: how long each kind of record is kept, and the archive/purge job.

GB 50440 expects alarm and event records kept at least a year and recordings six months.
``retention.yaml`` declares the window of each record kind; :mod:`.job` archives what is
older than its window (and no longer open) to compressed JSONL with a manifest, then
purges it, in bounded batches so it can run on a live system.
"""
