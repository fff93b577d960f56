"""The two-way link with the city grid platform (智网工程), over the generic link kernel
(:mod:`firegrid.links`): grid events (入格事项) come in, signed, and become hazards and
inspection tasks through inspections' public module; hazards and fire tasks go out through
the outbox, driven by the change stream. The message format is docs/gridlink.md.
"""
