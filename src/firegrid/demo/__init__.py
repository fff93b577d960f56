"""The synthetic demo city: a seeded city shaped like Dongguan, written to the database."""

from firegrid.demo.city import build_demo_city, demo_road_network, generate_demo_city
from firegrid.demo.spec import DemoSpec

__all__ = ["DemoSpec", "build_demo_city", "demo_road_network", "generate_demo_city"]
