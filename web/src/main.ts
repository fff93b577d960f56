// The console's entry: sign-in, the shell (navigation by role), and a hash router.

import "./styles.css";
import { ApiError } from "./api";
import { alerts, api, errorText, fail, i18n, live, state, t, type Me } from "./ctx";
import { h, replace } from "./dom";
import { canSee, landingView, parseHash, viewsForRole, type ViewId } from "./nav";
import { clearLayerCache } from "./layercache";
import { forgetMe, registerShell, rememberMe, rememberedMe } from "./offline";

type Mount = (root: HTMLElement, rest: string[]) => () => void;

// Each view is its own chunk (Vite dynamic import): the monitor does not ship the code of
// every other page; a view's code is fetched the first time it is opened.
const VIEWS: Record<ViewId, () => Promise<Mount>> = {
  monitor: () => import("./views/monitor").then((m) => m.mountMonitor),
  policy: () => import("./views/policy").then((m) => m.mountPolicy),
  dispatch: () => import("./views/dispatch").then((m) => m.mountDispatch),
  planning: () => import("./views/planning").then((m) => m.mountPlanning),
  risk: () => import("./views/risk").then((m) => m.mountRisk),
  analytics: () => import("./views/analytics").then((m) => m.mountAnalytics),
  data: () => import("./views/data").then((m) => m.mountData),
  preplans: () => import("./views/preplans").then((m) => m.mountPreplans),
  tasks: () => import("./views/tasks").then((m) => m.mountTasks),
  rounds: () => import("./views/rounds").then((m) => m.mountRounds),
  performance: () => import("./views/performance").then((m) => m.mountPerformance),
  installations: () => import("./views/installations").then((m) => m.mountInstallations),
  crew: () => import("./views/crew").then((m) => m.mountCrew),
  link110: () => import("./views/link110").then((m) => m.mountLink110),
  venue: () => import("./views/venue").then((m) => m.mountVenue),
  admin: () => import("./views/admin").then((m) => m.mountAdmin),
};
let mounting = 0;

const app = document.getElementById("app") as HTMLElement;
let cleanup: (() => void) | null = null;
let mounted = "";

function toasts(): HTMLElement {
  return h("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
}

function languageButton(): HTMLButtonElement {
  const other = i18n.locale === "en" ? "zh-CN" : "en";
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-ghost lang",
      "data-testid": "lang-switch",
      lang: other,
      // the visible name (中文 / English) is the accessible name; the purpose is the title
      title: t("app.switchLanguage"),
      onclick: () => {
        i18n.setLocale(other);
        mounted = "";
        render();
      },
    },
    t("app.otherLanguage"),
  );
}

/** The live channel's state for every seat (connected, reconnecting…). */
function liveBadge(): HTMLElement {
  const el = h("span", { class: "feed-status live-status", "data-testid": "live-status", role: "status" });
  let painted = false;
  let off: (() => void) | null = null;
  off = live.onStatus((s) => {
    if (painted && !el.isConnected) {
      off?.(); // the shell was drawn again: this badge is gone
      return;
    }
    painted = true;
    el.textContent = t(`feed.${s}`);
    el.className = `feed-status live-status feed-${s}`;
    el.dataset.state = s;
  });
  return el;
}

/** Silence the repeating alarm sound (the banners stay until acknowledged). */
function muteButton(): HTMLButtonElement {
  const button: HTMLButtonElement = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "mute" });
  const paint = () => {
    button.textContent = alerts.muted ? t("alerts.unmute") : t("alerts.mute");
    button.setAttribute("aria-pressed", String(alerts.muted));
  };
  paint();
  button.addEventListener("click", () => {
    alerts.setMuted(!alerts.muted);
    paint();
  });
  return button;
}

function notifyButton(): HTMLButtonElement | null {
  if (!alerts.canAsk) return null;
  const button: HTMLButtonElement = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "notify-permission" }, t("alerts.enableNotifications"));
  button.addEventListener("click", () => void alerts.askPermission().then(() => button.remove()));
  return button;
}

function renderLogin(message = ""): void {
  live.stop();
  clearLayerCache(); // the next caller may have another scope
  alerts.ackAll();
  cleanup?.();
  cleanup = null;
  mounted = "";
  const error = h("p", { class: "form-error", role: "alert", id: "login-error" }, message);
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "login-submit" }, t("login.submit"));
  const form = h(
    "form",
    {
      class: "login-card",
      "aria-labelledby": "login-title",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          await api.post("/auth/login", { username: user.value.trim(), password: pass.value, mode: "cookie" });
          await boot();
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 401 ? t("login.failed") : errorText(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", { id: "login-title" }, t("app.title")),
    h("p", { class: "muted" }, t("login.subtitle")),
    h("label", { for: "username" }, t("login.username")),
    user,
    h("label", { for: "password" }, t("login.password")),
    pass,
    error,
    submit,
    h("div", { class: "login-foot" }, languageButton()),
  );
  replace(app, h("main", { class: "login-page", id: "main" }, form), toasts());
  document.title = `${t("login.title")} · ${t("app.title")}`;
  user.focus();
}

async function logout(): Promise<void> {
  try {
    await api.post("/auth/logout");
  } catch {
    /* already signed out */
  }
  state.me = null;
  forgetMe();
  location.hash = "";
  renderLogin();
}

function logo(): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "logo");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M12 2c1 4 5 6 5 11a5 5 0 0 1-10 0c0-2 1-3.5 2-4.5 0 2 1 3 2 3.5C10.5 9 11 5 12 2z");
  path.setAttribute("fill", "#ff5722");
  svg.append(path);
  return svg;
}

let navObserver: ResizeObserver | null = null;

function renderShell(current: ViewId): HTMLElement {
  const me = state.me as Me;
  const nav = h(
    "nav",
    { class: "nav", "aria-label": t("app.navigation") },
    viewsForRole(me.role).map((v) =>
      h("a", { href: `#/${v}`, class: v === current ? "nav-link active" : "nav-link", "aria-current": v === current ? "page" : undefined, "data-view": v }, t(`nav.${v}`)),
    ),
  );
  // On a phone the navigation scrolls sideways: a "more" hint says so while links are cut off.
  const more = h("span", { class: "nav-more", "data-testid": "nav-more", "aria-hidden": "true", hidden: true }, t("app.moreViews"));
  const navWrap = h("div", { class: "nav-wrap" }, nav, more);
  const markOverflow = () => {
    const cut = nav.scrollWidth > nav.clientWidth + 1;
    nav.dataset.overflow = cut ? "true" : "false";
    more.hidden = !cut || nav.scrollLeft + nav.clientWidth >= nav.scrollWidth - 1;
  };
  nav.addEventListener("scroll", markOverflow, { passive: true });
  navObserver?.disconnect(); // the previous shell's navigation is gone
  navObserver = new ResizeObserver(markOverflow);
  navObserver.observe(nav);
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "skip", href: "#main", onclick: (ev: Event) => { ev.preventDefault(); document.getElementById("main")?.focus(); } }, t("app.skip")),
    h("div", { class: "brand" }, logo(), t("app.title")),
    navWrap,
    h(
      "div",
      { class: "who" },
      h("span", { class: "user", "data-testid": "whoami" }, `${me.user?.display_name || me.username} · ${t(`roles.${me.role}`)}`),
      liveBadge(),
      muteButton(),
      notifyButton(),
      languageButton(),
      h("button", { type: "button", class: "btn btn-ghost", id: "logout", onclick: () => void logout() }, t("app.logout")),
    ),
  );
  const main = h("main", { id: "main", class: `view view-${current}`, tabindex: "-1" });
  replace(app, header, main, toasts());
  return main;
}

function render(): void {
  const me = state.me;
  if (!me) {
    renderLogin();
    return;
  }
  const { view, rest } = parseHash(location.hash);
  if (!canSee(me.role, view)) {
    const landing = landingView(me.role);
    if (!landing) {
      // the integration role is a machine account: refused by name, not a blank page
      const reason = me.role === "integration" ? t("app.machineAccount") : t("app.noViews");
      replace(app, h("main", { class: "login-page", id: "main" }, h("div", { class: "login-card" }, h("p", { role: "alert" }, reason), h("button", { type: "button", class: "btn", onclick: () => void logout() }, t("app.logout")))));
      return;
    }
    if (location.hash !== `#/${landing}`) {
      location.hash = `#/${landing}`;
      return;
    }
  }
  const id = (canSee(me.role, view) ? view : landingView(me.role)) as ViewId;
  const key = `${id}/${rest.join("/")}|${i18n.locale}`;
  if (key === mounted) return;
  // Within a view, a sub-route change is handled by the view itself.
  if (mounted.split("/")[0] === id && mounted.endsWith(`|${i18n.locale}`)) {
    mounted = key;
    window.dispatchEvent(new CustomEvent("firegrid:subroute", { detail: rest }));
    return;
  }
  cleanup?.();
  cleanup = null;
  mounted = key;
  const main = renderShell(id);
  document.title = `${t(`nav.${id}`)} · ${t("app.title")}`;
  const ticket = ++mounting;
  VIEWS[id]()
    .then((mount) => {
      if (ticket !== mounting || !main.isConnected) return; // another view was asked for meanwhile
      cleanup = mount(main, parseHash(location.hash).rest);
    })
    .catch((err: unknown) => fail(err));
}

async function loadTaxonomy(): Promise<void> {
  // both need places:read; a seat without it (the 110 liaison) is not refused in the console
  if (!state.me?.permissions.includes("places:read")) {
    state.capabilities = {};
    state.categories = {};
    return;
  }
  try {
    state.capabilities = await api.get<Record<string, boolean>>("/map/capabilities");
  } catch {
    state.capabilities = {};
  }
  try {
    const tax = await api.get<{ categories: Record<string, { name_zh: string; name_en: string }> }>("/taxonomy");
    state.categories = tax.categories ?? {};
  } catch {
    state.categories = {};
  }
}

async function boot(): Promise<void> {
  document.documentElement.lang = i18n.locale;
  // Without the (readable) CSRF cookie there is no session: show the sign-in page at once
  // instead of asking the API and logging a 401 in the browser console.
  if (!api.csrfToken()) {
    state.me = null;
    renderLogin();
    return;
  }
  try {
    state.me = await api.get<Me>("/auth/me");
    rememberMe(state.me);
  } catch (err) {
    // no network (a phone in a village without signal): who was signed in last, so the
    // pages that work offline open; the server checks the session once it answers again
    const offline = err instanceof ApiError && err.status === 0 ? rememberedMe<Me>() : null;
    state.me = offline;
    if (!offline) {
      renderLogin(err instanceof ApiError && err.status !== 401 ? errorText(err) : "");
      return;
    }
  }
  await loadTaxonomy();
  live.start(); // before the views: their lists reload at its first hello
  mounted = "";
  render();
}

api.onUnauthorized = () => {
  forgetMe();
  if (state.me) {
    state.me = null;
    renderLogin(t("login.expired"));
  }
};
window.addEventListener("hashchange", render);
// A page that slept (hidden tab, laptop lid, lost network) reconnects and reloads its lists.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.me) live.wake();
});
window.addEventListener("online", () => {
  if (state.me) live.wake();
});
window.addEventListener("pageshow", (ev) => {
  if ((ev as PageTransitionEvent).persisted && state.me) live.wake();
});
void boot();
registerShell();
