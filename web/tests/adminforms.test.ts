import { describe, expect, it } from "vitest";
import { auditQuery, checkAdopt, checkApiKey, checkUser, parseIdList, parseRoutes } from "../src/adminforms";
import { ApiError } from "../src/api";
import { refusalKey } from "../src/refusal";

const ROLES = ["admin", "dispatcher", "venue_manager", "integration"];
const user = { username: "wang.li", display_name: "王丽", role: "dispatcher", scope_code: "T01", password: "", venue_ids: "" };

describe("admin forms", () => {
  it("parses id lists", () => {
    expect(parseIdList("")).toEqual([]);
    expect(parseIdList("12, 13 14，12")).toEqual([12, 13, 14]);
    expect(parseIdList("1,a")).toBeNull();
    expect(parseIdList("0")).toBeNull();
    expect(parseIdList("-3")).toBeNull();
    expect(parseRoutes("devices\n/api/v1/changes, devices")).toEqual(["devices", "/api/v1/changes"]);
  });

  it("checks a new user", () => {
    const ok = checkUser({ ...user, username: " Wang.Li " }, ROLES);
    expect(ok.problems).toEqual({});
    expect(ok.body).toEqual({ username: "wang.li", display_name: "王丽", role: "dispatcher", scope_code: "T01", password: null, venue_ids: [] });
    expect(checkUser({ ...user, username: "" }, ROLES).problems).toEqual({ username: "required" });
    expect(checkUser({ ...user, username: "a b" }, ROLES).problems.username).toBe("username");
    expect(checkUser({ ...user, role: "king" }, ROLES).problems.role).toBe("role");
    expect(checkUser({ ...user, scope_code: " " }, ROLES).problems.scope_code).toBe("required");
    expect(checkUser({ ...user, password: "short1" }, ROLES).problems.password).toBe("passwordShort");
    expect(checkUser({ ...user, password: "onlyletterslong" }, ROLES).problems.password).toBe("passwordMix");
    expect(checkUser({ ...user, password: "letters2026and" }, ROLES).body?.password).toBe("letters2026and");
    expect(checkUser({ ...user, role: "venue_manager" }, ROLES).problems.venue_ids).toBe("venueRequired");
    expect(checkUser({ ...user, role: "venue_manager", venue_ids: "7, 8" }, ROLES).body?.venue_ids).toEqual([7, 8]);
    expect(checkUser({ ...user, venue_ids: "7" }, ROLES).problems.venue_ids).toBe("venuesOnlyManager");
    expect(checkUser({ ...user, role: "venue_manager", venue_ids: "7;x" }, ROLES).problems.venue_ids).toBe("ids");
  });

  it("checks a new API key", () => {
    const form = { name: "供水公司", role: "integration", scope_code: "T01", routes: "changes\ndevices", expires_in_days: "" };
    expect(checkApiKey(form, ROLES).body).toEqual({ name: "供水公司", role: "integration", scope_code: "T01", routes: ["changes", "devices"], expires_in_days: null });
    expect(checkApiKey({ ...form, role: "admin" }, ROLES).problems.role).toBe("keyRole");
    expect(checkApiKey({ ...form, routes: " " }, ROLES).problems.routes).toBe("routesRequired");
    expect(checkApiKey({ ...form, routes: "../etc" }, ROLES).problems.routes).toBe("route");
    expect(checkApiKey({ ...form, routes: "devices?x=1" }, ROLES).problems.routes).toBe("route");
    expect(checkApiKey({ ...form, expires_in_days: "0" }, ROLES).problems.expires_in_days).toBe("days");
    expect(checkApiKey({ ...form, expires_in_days: "1.5" }, ROLES).problems.expires_in_days).toBe("days");
    expect(checkApiKey({ ...form, expires_in_days: "30" }, ROLES).body?.expires_in_days).toBe(30);
    expect(checkApiKey({ ...form, name: "" }, ROLES).problems.name).toBe("required");
  });

  it("builds the audit query and refuses a range that ends first", () => {
    const empty = { actor: "", action: "", kind: "", resource_type: "", resource_id: "", since: "", until: "" };
    expect(auditQuery(empty).body).toEqual({});
    const q = auditQuery({ ...empty, actor: " admin ", action: "user.create", since: "2026-01-01T08:00", until: "2026-01-02T08:00" }).body;
    expect(q?.actor).toBe("admin");
    expect(q?.action).toBe("user.create");
    expect(q?.since).toMatch(/^2026-01-0[12]T\d\d:00:00\.000Z$/);
    expect(auditQuery({ ...empty, since: "2026-01-02T08:00", until: "2026-01-01T08:00" }).problems.until).toBe("range");
    expect(auditQuery({ ...empty, resource_id: "12" }).problems.resource_type).toBe("objectType");
    expect(auditQuery({ ...empty, resource_type: "user", resource_id: "12" }).body).toEqual({ resource_type: "user", resource_id: "12" });
  });

  it("checks an adoption", () => {
    const form = { venue_id: "12", code: "GB-001", kind: "transmitter", install_location: "" };
    expect(checkAdopt(form).body).toEqual({ venue_id: 12, code: "GB-001", kind: "transmitter", install_location: "" });
    expect(checkAdopt({ ...form, venue_id: "12,13" }).problems.venue_id).toBe("ids");
    expect(checkAdopt({ ...form, venue_id: "" }).problems.venue_id).toBe("required");
    expect(checkAdopt({ ...form, kind: "toaster" }).problems.kind).toBe("required");
  });

  it("names a refused action, not another error", () => {
    expect(refusalKey(new ApiError(409, "conflict", "incident 3 is closed"), "escalate")).toBe("refused.escalate");
    expect(refusalKey(new ApiError(422, "validation_failed", "bad"), "escalate")).toBeNull();
    expect(refusalKey(new Error("x"), "escalate")).toBeNull();
  });
});
