"""Inspections and hazards (检查 / 隐患整改).

Grid workers (网格员) inspect the venues of their grid and record hazards (隐患) with a
rectification deadline (整改期限). A hazard is rectified with evidence or, once its deadline
has passed while it is still open, is overdue — a derived state, never stored. The risk
assessment's management indicators (open hazards, overdue rectifications, days since the
last inspection) read these tables (:mod:`firegrid.risk.inputs`).
"""
