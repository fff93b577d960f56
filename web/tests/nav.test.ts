import { describe, expect, it } from "vitest";
import { RoleValues } from "../src/generated/enums";
import { canSee, landingView, MACHINE_ROLES, parseHash, VIEW_ORDER, VIEW_ROLES, viewsForRole } from "../src/nav";

describe("navigation by role", () => {
  it("gives each role its views", () => {
    expect(viewsForRole("monitor_operator")).toEqual(["monitor", "data", "preplans"]);
    expect(viewsForRole("dispatcher")).toEqual(["dispatch", "analytics", "data", "preplans", "crew", "link110"]);
    expect(viewsForRole("analyst")).toEqual(["planning", "risk", "analytics", "performance", "installations", "data"]);
    expect(viewsForRole("commander")).toEqual(["monitor", "dispatch", "planning", "risk", "analytics", "performance", "installations", "data", "preplans", "crew", "link110"]);
    expect(viewsForRole("venue_manager")).toEqual(["venue", "preplans"]);
    expect(viewsForRole("grid_worker")).toEqual(["tasks", "rounds"]);
    expect(viewsForRole("police_liaison")).toEqual(["link110"]);
    // the integration role is a machine account: no console page (refused by name)
    expect(viewsForRole("integration")).toEqual([]);
    expect(viewsForRole("monitor_supervisor")).toEqual(["monitor", "policy", "data", "preplans", "link110"]);
    expect(canSee("monitor_operator", "policy")).toBe(false);
  });

  it("gives every role of the API (accounts/roles.py) a page, machine accounts none", () => {
    // RoleValues is generated from the OpenAPI document, whose Role enum is roles.py's
    expect(RoleValues.length).toBeGreaterThanOrEqual(11);
    for (const role of RoleValues) {
      if (MACHINE_ROLES.includes(role)) expect(viewsForRole(role), role).toEqual([]);
      else expect(viewsForRole(role).length, role).toBeGreaterThan(0);
    }
    // no view names a role the API does not know
    for (const view of VIEW_ORDER) for (const role of VIEW_ROLES[view]) expect(RoleValues as readonly string[]).toContain(role);
    expect(landingView("venue_manager")).toBe("venue");
    expect(viewsForRole("admin")).toContain("admin");
    expect(canSee("monitor_supervisor", "admin")).toBe(false);
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
