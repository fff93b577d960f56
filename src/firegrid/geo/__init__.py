"""Road network and travel-time engine (pure computation, no database).

Kept import-free so that importing ``firegrid.geo.models`` stays cheap. Modules:

- ``network``: ``RoadNetwork`` (NumPy arrays, CSR graphs, ``.npz`` cache, rows), ``RoadClass``
- ``speeds``: ``SpeedTable`` (fire-engine speed per road class, peak factor)
- ``osm``: ``import_osm`` from ``.osm.pbf`` (pyosmium), ``ImportReport``
- ``generate``: ``generate_city_network`` (synthetic city inside a boundary)
- ``engine``: ``TravelTimeEngine`` (snap, one-to-all, matrices, routes, facility trees,
  ``k_nearest``)
- ``coverage``: ``coverage``, ``coverage_bands``, ``first_due``, ``PointSet``
- ``isochrones``: ``isochrones`` (GeoJSON), ``isochrone_polygon``
- ``hydrant_gaps``: ``hydrant_gaps`` after GB 50974
- ``errors``: ``GeoError`` (a ``ValueError``) and its subclasses
"""
