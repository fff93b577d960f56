import { describe, expect, it } from "vitest";
import {
  bandColour,
  boundaryLevelsForZoom,
  boundaryStyle,
  buildMapStyle,
  categoryColour,
  layerVisible,
  roadGroupsForZoom,
  roadStyle,
  THREE_COLOURS,
  unitStatusColour,
  venueStyle,
} from "../src/mapstyle";

describe("map style builder", () => {
  it("draws only major roads at low zoom", () => {
    expect(roadGroupsForZoom(10)).toEqual(["major"]);
    expect(roadGroupsForZoom(12)).toEqual(["major", "secondary"]);
    expect(roadGroupsForZoom(15)).toEqual(["major", "secondary", "minor"]);
  });

  it("shows finer boundaries as the map zooms in", () => {
    expect(boundaryLevelsForZoom(9)).toEqual(["city", "town"]);
    expect(boundaryLevelsForZoom(13)).toEqual(["city", "town", "village", "grid"]);
  });

  it("colours venues by three-colour status, else by category", () => {
    expect(venueStyle({ colour: "red" }, 12).fillColor).toBe(THREE_COLOURS.red);
    expect(venueStyle({ colour: "green" }, 12).fillColor).toBe(THREE_COLOURS.green);
    const red = venueStyle({ colour: "red" }, 12);
    const green = venueStyle({ colour: "green" }, 12);
    expect(red.radius).toBeGreaterThan(green.radius);
    const byCategory = venueStyle({ colour: null, category: "shopping_mall" }, 12);
    expect(byCategory.fillColor).toBe(categoryColour("shopping_mall"));
    expect(categoryColour("shopping_mall")).toBe(categoryColour("shopping_mall"));
    expect(venueStyle({ colour: "green", key_unit: true }, 12).weight).toBeGreaterThan(green.weight);
  });

  it("widens roads with zoom and keeps classes apart", () => {
    expect(roadStyle("major", 15).weight).toBeGreaterThan(roadStyle("major", 10).weight);
    expect(roadStyle("major", 12).color).not.toBe(roadStyle("minor", 12).color);
    expect(boundaryStyle("city").fill).toBe(true);
    expect(boundaryStyle("grid").dashArray).toBeDefined();
  });

  it("orders the layers bottom to top, with the overlay last", () => {
    const layers = buildMapStyle({ view: "monitor" });
    expect(layers[0].id).toBe("boundary-city");
    expect(layers.at(-1)?.id).toBe("overlay");
    expect(layers.find((l) => l.id === "venues")?.defaultOn).toBe(true);
    expect(buildMapStyle({ view: "planning" }).find((l) => l.id === "hydrants")?.defaultOn).toBe(true);
    const grid = layers.find((l) => l.id === "boundary-grid")!;
    expect(layerVisible(grid, 12)).toBe(false);
    expect(layerVisible(grid, 14)).toBe(true);
  });

  it("ramps isochrone bands from green to red and colours unit status", () => {
    expect(bandColour(0, 3)).toBe("#1a9850");
    expect(bandColour(2, 3)).toBe("#d73027");
    expect(bandColour(0, 1)).toBe("#1a9850");
    expect(unitStatusColour("on_scene")).not.toBe(unitStatusColour("available_in_station"));
    expect(unitStatusColour("whatever")).toBe("#455a64");
  });
});
