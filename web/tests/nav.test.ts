import { describe, expect, it } from "vitest";
import { canSee, landingView, parseHash, viewsForRole } from "../src/nav";

describe("navigation by role", () => {
  it("gives each role its views", () => {
    expect(viewsForRole("monitor_operator")).toEqual(["monitor", "data", "preplans"]);
    expect(viewsForRole("dispatcher")).toEqual(["dispatch", "analytics", "data", "preplans", "crew", "link110"]);
    expect(viewsForRole("analyst")).toEqual(["planning", "risk", "analytics", "performance", "installations", "data"]);
    expect(viewsForRole("commander")).toEqual(["monitor", "dispatch", "planning", "risk", "analytics", "performance", "installations", "data", "preplans", "crew", "link110"]);
    expect(viewsForRole("venue_manager")).toEqual(["preplans"]);
    expect(viewsForRole("grid_worker")).toEqual(["tasks", "rounds"]);
    expect(viewsForRole("police_liaison")).toEqual(["link110"]);
    // the integration role is a machine account: no console page (refused by name)
    expect(viewsForRole("integration")).toEqual([]);
    expect(viewsForRole("monitor_supervisor")).toEqual(["monitor", "policy", "data", "preplans", "link110"]);
    expect(canSee("monitor_operator", "policy")).toBe(false);
  });

  it("lands on the first view and refuses others", () => {
    expect(landingView("grid_worker")).toBe("tasks");
    expect(landingView("police_liaison")).toBe("link110");
    expect(canSee("grid_worker", "monitor")).toBe(false);
    expect(canSee("admin", "monitor")).toBe(true);
    expect(canSee("admin", "nope")).toBe(false);
  });

  it("parses hash routes", () => {
    expect(parseHash("#/dispatch/incident/3")).toEqual({ view: "dispatch", rest: ["incident", "3"] });
    expect(parseHash("")).toEqual({ view: "", rest: [] });
    expect(parseHash("#monitor")).toEqual({ view: "monitor", rest: [] });
  });
});
