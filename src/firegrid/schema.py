"""Import every context's tables so ``Base.metadata`` is complete (migrations, tests).

Add a new context's ``models`` module here.
"""

from firegrid.accounts import models as accounts_models
from firegrid.alarms import models as alarms_models
from firegrid.core import changes as core_changes
from firegrid.core import deployment as core_deployment
from firegrid.core.db import Base
from firegrid.devices import models as devices_models
from firegrid.devices import state_models as device_state_models
from firegrid.dispatch import incident_models as dispatch_incident_models
from firegrid.dispatch import models as dispatch_models
from firegrid.dispatch import staffing_models as dispatch_staffing_models
from firegrid.geo import models as geo_models
from firegrid.gridlink import models as gridlink_models
from firegrid.ingest import models as ingest_models
from firegrid.ingest.commands import models as ingest_command_models
from firegrid.inspections import models as inspections_models
from firegrid.inspections import tasks as inspections_tasks
from firegrid.installations import models as installations_models
from firegrid.interop import models as interop_models
from firegrid.links import models as links_models
from firegrid.live import models as live_models
from firegrid.places import models as places_models
from firegrid.planning import models as planning_models
from firegrid.preplans import models as preplans_models
from firegrid.records import models as records_models
from firegrid.retention import models as retention_models
from firegrid.risk import area_models as risk_area_models
from firegrid.risk import models as risk_models
from firegrid.sharing import webhook_models as sharing_webhook_models

__all__ = [
    "Base",
    "accounts_models",
    "alarms_models",
    "core_changes",
    "core_deployment",
    "device_state_models",
    "devices_models",
    "dispatch_incident_models",
    "dispatch_models",
    "dispatch_staffing_models",
    "geo_models",
    "gridlink_models",
    "ingest_command_models",
    "ingest_models",
    "inspections_models",
    "inspections_tasks",
    "installations_models",
    "interop_models",
    "links_models",
    "live_models",
    "places_models",
    "planning_models",
    "preplans_models",
    "records_models",
    "retention_models",
    "risk_area_models",
    "risk_models",
    "sharing_webhook_models",
]

metadata = Base.metadata
