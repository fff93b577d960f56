"""Installation programmes (安装工程): standalone smoke alarms and simple sprinklers
installed per household, room or venue, counted by town and period.

A programme (e.g. "2026 独立式感烟火灾探测报警器进出租屋") is run by a town or the city;
each installation records where (a venue, or a household/room in a grid), what (device
type), when, by whom, and — for a connected device — the registered device it is bound to
(which must exist and lie in the installation's grid). Figures per town/village/grid and
month or year feed the console and the ``firegrid installations report`` command.

A context of its own (not inside ``inspections/``): installations are not visits and have
their own lifecycle, readers (town leaders, the programme office) and figures; it reads
the city model and the device registry only through their ``public`` modules.
"""
