// Administration (role admin, scoped by the caller's jurisdiction as the API scopes it):
// users, API keys, audit search, work orders, quarantined devices; the alarm policy has its
// own page, linked here. One sub-page at a time: #/admin/<tab>.

import "./admin.css";
import { can, t } from "../ctx";
import { h, replace } from "../dom";
import { auditTab } from "./admin_audit";
import { keysTab } from "./admin_keys";
import { quarantineTab, workOrdersTab } from "./admin_ops";
import { usersTab } from "./admin_users";

type Tab = (box: HTMLElement) => () => void;

export const ADMIN_TABS: { id: string; permission: string; mount: Tab }[] = [
  { id: "users", permission: "accounts:admin", mount: usersTab },
  { id: "apikeys", permission: "accounts:admin", mount: keysTab },
  { id: "audit", permission: "audit:read", mount: auditTab },
  { id: "workorders", permission: "workorders:own", mount: workOrdersTab },
  { id: "quarantine", permission: "devices:write", mount: quarantineTab },
];

export function mountAdmin(root: HTMLElement, rest: string[]): () => void {
  const tabs = ADMIN_TABS.filter((tab) => can(tab.permission));
  const nav = h("nav", { class: "subnav", "aria-label": t("admin.sections") });
  const box = h("div", { class: "admin-body", "data-testid": "admin-body" });
  const page = h("div", { class: "panel page admin-page", "data-testid": "admin-page" }, h("h2", null, t("nav.admin")), nav, box);
  root.append(page);
  let cleanup: (() => void) | null = null;

  function show(which: string | undefined): void {
    const tab = tabs.find((x) => x.id === which) ?? tabs[0];
    replace(
      nav,
      tabs.map((x) => h("a", { href: `#/admin/${x.id}`, class: x === tab ? "subnav-link active" : "subnav-link", "aria-current": x === tab ? "page" : undefined, "data-tab": x.id }, t(`admin.tabs.${x.id}`))),
      can("alarms:policy") ? h("a", { href: "#/policy", class: "subnav-link", "data-tab": "policy" }, t("nav.policy")) : null,
    );
    cleanup?.();
    replace(box);
    cleanup = tab ? tab.mount(box) : null;
  }

  const onSub = (ev: Event) => show((ev as CustomEvent<string[]>).detail[0]);
  window.addEventListener("firegrid:subroute", onSub);
  show(rest[0]);
  return () => {
    window.removeEventListener("firegrid:subroute", onSub);
    cleanup?.();
  };
}
