// The generated worker run without a browser: its text is evaluated with a fake `self`,
// `caches` (CacheStorage) and `fetch` (the server, which can be switched off).
import { describe, expect, it } from "vitest";
import template from "../shell/sw.js?raw";
import { shellBuildOf } from "../shell/plugin";
import { LISTED, fakeBundle } from "./shellfake";

const ORIGIN = "https://phone.test";

interface FakeRequest {
  url: string;
  method: string;
  mode: string;
}

type RequestLike = string | FakeRequest;

function urlOf(request: RequestLike): string {
  return new URL(typeof request === "string" ? request : request.url, ORIGIN).href;
}

class FakeServer {
  online = true;
  missing = new Set<string>();
  fetched: string[] = [];
  version = "v1";

  fetch = async (request: RequestLike): Promise<Response> => {
    const url = urlOf(request);
    this.fetched.push(url);
    if (!this.online) throw new TypeError("Failed to fetch");
    if (this.missing.has(url)) return new Response("not found", { status: 404 });
    return new Response(`${new URL(url).pathname} ${this.version}`);
  };
}

class FakeCache {
  entries = new Map<string, Response>();

  constructor(private readonly server: FakeServer) {}

  async match(request: RequestLike): Promise<Response | undefined> {
    return this.entries.get(urlOf(request))?.clone();
  }

  async put(request: RequestLike, response: Response): Promise<void> {
    this.entries.set(urlOf(request), response);
  }

  /** As the Cache API: every response must be ok, or nothing is stored. */
  async addAll(requests: RequestLike[]): Promise<void> {
    const responses = await Promise.all(requests.map((request) => this.server.fetch(request)));
    if (responses.some((response) => !response.ok)) throw new TypeError("addAll: a response was not ok");
    requests.forEach((request, i) => this.entries.set(urlOf(request), responses[i]));
  }

  paths(): string[] {
    return [...this.entries.keys()].map((url) => new URL(url).pathname).sort();
  }
}

class FakeCaches {
  stores = new Map<string, FakeCache>();

  constructor(private readonly server: FakeServer) {}

  async open(name: string): Promise<FakeCache> {
    let cache = this.stores.get(name);
    if (!cache) {
      cache = new FakeCache(this.server);
      this.stores.set(name, cache);
    }
    return cache;
  }

  async keys(): Promise<string[]> {
    return [...this.stores.keys()];
  }

  async delete(name: string): Promise<boolean> {
    return this.stores.delete(name);
  }
}

type Listener = (event: unknown) => void;

async function startWorker() {
  const shell = await shellBuildOf(template, fakeBundle());
  const server = new FakeServer();
  const caches = new FakeCaches(server);
  const listeners = new Map<string, Listener>();
  const calls: string[] = [];
  const self = {
    location: new URL(`${ORIGIN}/sw.js`),
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    skipWaiting: async () => void calls.push("skipWaiting"),
    clients: { claim: async () => void calls.push("claim") },
  };
  new Function("self", "caches", "fetch", shell.worker)(self, caches, server.fetch);

  async function lifecycle(type: "install" | "activate"): Promise<void> {
    const waits: Promise<unknown>[] = [];
    listeners.get(type)?.({ waitUntil: (promise: Promise<unknown>) => waits.push(promise) });
    await Promise.all(waits);
  }

  /** The worker's answer, or null when it lets the request through untouched. */
  async function request(path: string, init: Partial<FakeRequest> = {}): Promise<string | null> {
    let answer: Promise<Response> | null = null;
    const request = { url: new URL(path, ORIGIN).href, method: "GET", mode: "cors", ...init };
    listeners.get("fetch")?.({ request, respondWith: (promise: Promise<Response>) => (answer = promise) });
    return answer === null ? null : (await (answer as Promise<Response>)).text();
  }

  const current = `firegrid-shell-${shell.buildId}`;
  return { shell, server, caches, calls, lifecycle, request, current };
}

describe("the offline shell's worker", () => {
  it("precaches the page, the config script and every listed asset in this build's cache", async () => {
    const w = await startWorker();
    await w.lifecycle("install");
    expect([...w.caches.stores.keys()]).toEqual([w.current]);
    const expected = ["/console-config.js", ...LISTED.filter((url) => url !== "/"), "/"].sort();
    expect(w.caches.stores.get(w.current)?.paths()).toEqual(expected);
    expect(w.calls).toEqual(["skipWaiting"]);
  });

  it("fails its install when one asset is missing, keeping the running build's cache", async () => {
    const w = await startWorker();
    const running = await w.caches.open("firegrid-shell-0123456789abcdef");
    await running.put("/assets/index-Old00000.js", new Response("old build"));
    w.server.missing.add(`${ORIGIN}/assets/rounds-Ef56Gh78.js`);
    await expect(w.lifecycle("install")).rejects.toThrow(/not ok/);
    expect(await w.caches.keys()).toEqual(["firegrid-shell-0123456789abcdef"]);
    expect(running.paths()).toEqual(["/assets/index-Old00000.js"]);
    expect(w.calls).toEqual([]);
  });

  it("deletes every older build's cache when it activates, and nothing else", async () => {
    const w = await startWorker();
    await w.caches.open("firegrid-shell-v1");
    await w.caches.open("firegrid-shell-0123456789abcdef");
    await w.caches.open("another-app");
    await w.lifecycle("install");
    await w.lifecycle("activate");
    expect((await w.caches.keys()).sort()).toEqual(["another-app", w.current].sort());
    expect(w.calls).toEqual(["skipWaiting", "claim"]);
  });

  it("serves assets from the cache, and the page from the cache only when the network fails", async () => {
    const w = await startWorker();
    await w.lifecycle("install");
    await w.lifecycle("activate");
    w.server.version = "v2";
    w.server.fetched = [];
    expect(await w.request("/assets/rounds-Ef56Gh78.js")).toBe("/assets/rounds-Ef56Gh78.js v1");
    expect(w.server.fetched).toEqual([]);
    expect(await w.request("/#/rounds", { mode: "navigate" })).toBe("/ v2");
    expect(await w.request("/console-config.js", { mode: "no-cors" })).toBe("/console-config.js v2");
    w.server.online = false;
    expect(await w.request("/some/view", { mode: "navigate" })).toBe("/ v2");
    expect(await w.request("/console-config.js", { mode: "no-cors" })).toBe("/console-config.js v2");
    expect(await w.request("/assets/index-Ij90Kl12.css")).toBe("/assets/index-Ij90Kl12.css v1");
  });

  it("never intercepts the API, other methods or other origins, and keeps no unlisted asset", async () => {
    const w = await startWorker();
    await w.lifecycle("install");
    expect(await w.request("/api/v1/auth/me")).toBeNull();
    expect(await w.request("/healthz")).toBeNull();
    expect(await w.request("/metrics")).toBeNull();
    expect(await w.request("/assets/index-Ab12Cd34.js", { method: "POST" })).toBeNull();
    expect(await w.request("https://tiles.example/assets/1/2/3.png")).toBeNull();
    expect(await w.request("/assets/older-Qq11Rr22.js")).toBe("/assets/older-Qq11Rr22.js v1");
    expect(w.caches.stores.get(w.current)?.paths()).not.toContain("/assets/older-Qq11Rr22.js");
  });
});
