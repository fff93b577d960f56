import { describe, expect, it } from "vitest";
import { Api, ApiError, errorFromResponse, queryString, readCookie } from "../src/api";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

describe("API client", () => {
  it("reads the error envelope", async () => {
    const err = await errorFromResponse(json(409, { error: { code: "conflict", message: "already decided", details: { status: "confirmed" } } }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.code).toBe("conflict");
    expect(err.message).toBe("already decided");
    expect(err.details).toEqual({ status: "confirmed" });
    expect(err.rowErrors).toEqual([]);
  });

  it("exposes the row errors of a failed import", async () => {
    const errors = [{ line: 3, column: "lon", reason: "not a number" }];
    const err = await errorFromResponse(json(422, { error: { code: "import_failed", message: "1 problem", details: { errors, rows: 4 } } }));
    expect(err.rowErrors).toEqual(errors);
  });

  it("copes with a body that is not an envelope", async () => {
    const plain = await errorFromResponse(new Response("<html>bad gateway</html>", { status: 502 }));
    expect(plain.code).toBe("http_502");
    expect(plain.message).toContain("bad gateway");
    const detail = await errorFromResponse(json(404, { detail: "Not Found" }));
    expect(detail.message).toBe("Not Found");
  });

  it("sends the CSRF header on mutations only, with the cookie's value", async () => {
    const seen: { url: string; init?: RequestInit }[] = [];
    const api = new Api("/api/v1", async (url, init) => {
      seen.push({ url, init });
      return json(200, { ok: true });
    }, () => "a=1; firegrid_csrf=tok%2Ben; b=2");
    await api.get("/alarms", { open: true, kind: undefined, station_id: [1, 2] });
    await api.post("/alarms/3/acknowledge");
    expect(seen[0].url).toBe("/api/v1/alarms?open=true&station_id=1&station_id=2");
    expect((seen[0].init?.headers as Record<string, string>)["X-CSRF-Token"]).toBeUndefined();
    expect((seen[1].init?.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok+en");
    expect(seen[1].init?.credentials).toBe("same-origin");
  });

  it("raises ApiError and calls onUnauthorized on 401", async () => {
    const api = new Api("/api/v1", async () => json(401, { error: { code: "unauthenticated", message: "sign in" } }), () => "");
    let called = 0;
    api.onUnauthorized = () => called++;
    await expect(api.get("/auth/me")).rejects.toMatchObject({ status: 401, code: "unauthenticated" });
    expect(called).toBe(1);
    await expect(api.post("/auth/login", {})).rejects.toBeInstanceOf(ApiError);
    expect(called).toBe(1);
  });

  it("turns a network failure into a network error", async () => {
    const api = new Api("/api/v1", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(api.get("/x")).rejects.toMatchObject({ status: 0, code: "network" });
  });

  it("builds query strings and reads cookies", () => {
    expect(queryString({ a: "", b: null, c: 0, d: false })).toBe("?c=0&d=false");
    expect(queryString({})).toBe("");
    expect(readCookie("x=1; y=2", "y")).toBe("2");
    expect(readCookie("x=1", "z")).toBe("");
  });
});
