"""The live channel's tests use the alarms tests' two-town city, clock and correlator."""

from tests.alarms.conftest import (  # noqa: F401 - fixtures
    _cheap_password_hashing,
    app,
    city,
    client,
    clock,
    correlator,
    policy,
    site,
    users,
)
