"""Command and dispatch: resources (stations, forces, vehicles, hydrants) and incidents."""
