"""Device registry and (later) live device state."""
