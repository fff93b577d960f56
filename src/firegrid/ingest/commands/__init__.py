"""Downstream commands to GB/T 26875.3 transmitters (查岗, 巡检, clock sync).

- :mod:`.models`: the ``device_commands`` queue/record and ``device_command_schedules``;
- :mod:`.catalogue`: command kinds → the frame the centre sends and the answer it waits for;
- :mod:`.requests`: writing commands (API, CLI) and reading their results;
- :mod:`.schedule`: the poll and clock-sync periods (data: ``schedule.yaml``);
- :mod:`.dispatcher`: in the ingest process holding the connection, sends, matches, times
  out and records.
"""
