"""Protocol adapters, one package per protocol (a pure ``codec`` and a ``server``)."""
