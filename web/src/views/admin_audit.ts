// Admin: audit search — by actor, action, kind, object (type and id) and time range, newest
// first, paged by 50; the same search exported as CSV.

import { auditQuery } from "../adminforms";
import { api, i18n, label, t } from "../ctx";
import { h, replace } from "../dom";
import type { AuditEntryOut, AuditPage } from "../generated/api";
import { formatDateTime } from "../time";
import { section, select, table } from "./common";
import { applyProblems, moreButton, problemField, refuse } from "./admin_common";

const KINDS = ["request", "change", "auth", "access"];

function changeText(e: AuditEntryOut): HTMLElement | string {
  if (!e.before && !e.after && !e.details) return "";
  const json = JSON.stringify({ before: e.before, after: e.after, details: e.details }, null, 1);
  return h("details", null, h("summary", null, t("admin.audit.showChange")), h("pre", { class: "json" }, json));
}

export function auditTab(box: HTMLElement, initial: Record<string, string> = {}): () => void {
  let alive = true;
  let cursor: string | null = null;
  let rows: AuditEntryOut[] = [];
  let query: Record<string, string> = {};

  const input = (name: string, attrs: Record<string, unknown> = {}) => h("input", { id: `audit-${name}`, autocomplete: "off", value: initial[name] ?? "", ...attrs });
  const actor = input("actor", { maxlength: 120 });
  const action = input("action", { maxlength: 80, placeholder: "user.update" });
  const kind = select("audit-kind", [["", t("admin.all")], ...KINDS.map((k): [string, string] => [k, label("auditKind", k)])], initial.kind ?? "");
  const resourceType = input("resource_type", { maxlength: 60, placeholder: "user" });
  const resourceId = input("resource_id", { maxlength: 80 });
  const since = input("since", { type: "datetime-local" });
  const until = input("until", { type: "datetime-local" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "audit-search" }, t("admin.audit.search"));
  const exportLink = h("a", { class: "btn", href: api.url("/audit/export", { format: "csv" }), download: "", "data-testid": "audit-export" }, t("admin.audit.export"));
  const count = h("p", { class: "muted", "aria-live": "polite", "data-testid": "audit-count" });
  const listBox = h("div", { "data-testid": "audit-list" });
  const more = moreButton("audit-more", () => load(false));

  const form = h(
    "form",
    { class: "admin-form", "aria-label": t("admin.audit.title"), "data-testid": "audit-form", novalidate: true },
    h(
      "div",
      { class: "form-grid" },
      problemField(t("admin.audit.actor"), actor, t("admin.audit.actorHint")),
      problemField(t("admin.audit.action"), action),
      problemField(t("admin.audit.kind"), kind),
      problemField(t("admin.audit.objectType"), resourceType),
      problemField(t("admin.audit.objectId"), resourceId),
      problemField(t("admin.audit.since"), since),
      problemField(t("admin.audit.until"), until),
    ),
    h("div", { class: "actions" }, submit, exportLink),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });

  function search(): void {
    const checked = auditQuery({ actor: actor.value, action: action.value, kind: kind.value, resource_type: resourceType.value, resource_id: resourceId.value, since: since.value, until: until.value });
    applyProblems(form, "audit", checked.problems);
    if (!checked.body) return;
    query = checked.body;
    const { kind: _kind, resource_type: _type, resource_id: _id, ...exported } = query; // the export filters by these only
    exportLink.href = api.url("/audit/export", { format: "csv", ...exported });
    void load(true);
  }

  async function load(fresh: boolean): Promise<void> {
    if (fresh) {
      cursor = null;
      rows = [];
    }
    try {
      const page = await api.get<AuditPage>("/audit", { ...query, limit: 50, cursor });
      if (!alive) return;
      rows = fresh ? page.items : [...rows, ...page.items];
      cursor = page.next_cursor;
      more.hidden = !cursor;
      count.textContent = t("admin.audit.count", { n: rows.length });
      replace(
        listBox,
        table(
          [t("fields.time"), t("admin.audit.actor"), t("admin.audit.action"), t("admin.audit.kind"), t("admin.audit.outcome"), t("admin.audit.object"), t("admin.audit.request"), t("admin.audit.change")],
          rows.map((e) => [
            formatDateTime(e.at, i18n.locale),
            [e.actor_username || e.actor_subject, e.actor_role ? label("roles", e.actor_role) : ""].filter(Boolean).join(" · "),
            h("code", null, e.action),
            label("auditKind", e.kind),
            label("auditOutcome", e.outcome),
            e.resource_type ? `${e.resource_type}${e.resource_id ? ` #${e.resource_id}` : ""}` : "",
            e.method ? `${e.method} ${e.path}${e.status ? ` → ${e.status}` : ""}` : "",
            changeText(e),
          ]),
          { testid: "audit-table", empty: t("admin.audit.none"), rowAttrs: (i) => ({ "data-audit-action": rows[i]?.action }) },
        ),
      );
    } catch (err) {
      refuse(err, "load");
    }
  }

  replace(box, section(t("admin.audit.title"), form, count, listBox, more));
  search();
  return () => {
    alive = false;
  };
}
