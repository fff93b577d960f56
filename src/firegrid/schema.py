"""Import every context's tables so ``Base.metadata`` is complete (migrations, tests).

Add a new context's ``models`` module here.
"""

from firegrid.accounts import models as accounts_models
from firegrid.core.db import Base
from firegrid.devices import models as devices_models
from firegrid.dispatch import models as dispatch_models
from firegrid.geo import models as geo_models
from firegrid.places import models as places_models

__all__ = [
    "Base",
    "accounts_models",
    "devices_models",
    "dispatch_models",
    "geo_models",
    "places_models",
]

metadata = Base.metadata
