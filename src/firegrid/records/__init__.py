"""Fire incident records (火灾统计): one structured record per fire, imported from past
statistics or filled in by an officer after an incident closes, reviewed and locked.

Other contexts read records only through :mod:`firegrid.records.public`.
"""
