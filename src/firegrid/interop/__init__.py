"""The 110 ↔ 119 link in NENA EIDO: the EIDO subset (schema, mapping, build and parse), the
relay that turns dispatch's durable change entries into outbox messages to the district's
110 peer, the inbound transfers and follow-ups, and the 110 peer simulator."""
