// Admin: API keys of the caller's jurisdiction — create (the secret shown once), list
// (revoked ones on request), revoke now.

import { checkApiKey } from "../adminforms";
import { api, i18n, label, state, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { RoleValues } from "../generated/enums";
import type { ApiKeyCreatedOut, ApiKeyList, ApiKeyOut } from "../generated/api";
import { formatDateTime } from "../time";
import { busy, section, select, table } from "./common";
import { applyProblems, problemField, refuse, scopeList, secretBox, showServerProblem, twoStepButton } from "./admin_common";

/** Roles a key may have: every role but admin (accounts/service.py API_KEY_ROLES). */
const KEY_ROLES = RoleValues.filter((r) => r !== "admin");

export function keysTab(box: HTMLElement): () => void {
  const me = state.me;
  let alive = true;
  const when = (v: string | null) => (v ? formatDateTime(v, i18n.locale) : "");

  const name = h("input", { id: "key-name", autocomplete: "off", maxlength: 120, required: true });
  const role = select("key-role", KEY_ROLES.map((r) => [r, label("roles", r)]), "integration");
  const scope = h("input", { id: "key-scope_code", autocomplete: "off", list: "key-scope-list", maxlength: 32, value: me?.scope_code ?? "", required: true });
  const routes = h("textarea", { id: "key-routes", rows: 2 });
  const days = h("input", { id: "key-expires_in_days", type: "number", min: 1, max: 3650, inputmode: "numeric" });
  const created = h("div", { "data-testid": "key-created" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "key-create" }, t("admin.keys.create"));
  const form = h(
    "form",
    { class: "admin-form", "aria-label": t("admin.keys.new"), "data-testid": "key-form", novalidate: true },
    h(
      "div",
      { class: "form-grid" },
      problemField(t("admin.keys.name"), name),
      problemField(t("admin.role"), role),
      problemField(t("admin.scopeCode"), scope, t("admin.scopeHint")),
      problemField(t("admin.keys.routes"), routes, t("admin.keys.routesHint")),
      problemField(t("admin.keys.days"), days, t("admin.keys.daysHint")),
    ),
    scopeList("key-scope-list", me?.scope_code ?? ""),
    submit,
    created,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const checked = checkApiKey({ name: name.value, role: role.value, scope_code: scope.value, routes: routes.value, expires_in_days: days.value }, RoleValues);
    applyProblems(form, "key", checked.problems);
    if (!checked.body) return;
    const body = checked.body;
    void busy(submit, async () => {
      try {
        const r = await api.post<ApiKeyCreatedOut>("/apikeys", body);
        replace(created, secretBox(t("admin.keys.secret", { name: r.api_key.name }), r.key, "key-secret"));
        toast(t("admin.keys.created", { name: r.api_key.name }), "ok");
        name.value = "";
        routes.value = "";
        days.value = "";
        await load();
      } catch (err) {
        showServerProblem(form, "key", err);
      }
    });
  });

  const revoked = h("input", { id: "keys-include-revoked", type: "checkbox" });
  revoked.addEventListener("change", () => void load());
  const listBox = h("div", { "data-testid": "keys-list" });

  async function load(): Promise<void> {
    try {
      const page = await api.get<ApiKeyList>("/apikeys", { include_revoked: revoked.checked });
      if (alive) draw(page.items);
    } catch (err) {
      refuse(err, "load");
    }
  }

  function draw(keys: ApiKeyOut[]): void {
    replace(
      listBox,
      table(
        [t("admin.keys.id"), t("admin.keys.name"), t("admin.role"), t("admin.scopeCode"), t("admin.keys.routes"), t("admin.keys.createdAt"), t("admin.keys.expiresAt"), t("admin.keys.lastUsed"), t("fields.status"), t("fields.action")],
        keys.map((k) => [
          h("code", null, k.id),
          k.name,
          label("roles", k.role),
          k.scope_code,
          k.routes.join(" "),
          when(k.created_at),
          when(k.expires_at),
          when(k.last_used_at),
          h("span", { class: `badge ${k.revoked_at ? "badge-off" : "badge-on"}`, "data-testid": `key-state-${k.id}` }, k.revoked_at ? t("admin.keys.revoked") : t("admin.keys.active")),
          k.revoked_at
            ? ""
            : twoStepButton(t("admin.keys.revoke"), t("admin.keys.confirmRevoke"), { "data-action": "revoke", "aria-label": t("admin.keys.revokeOf", { name: k.name }) }, async () => {
                try {
                  await api.post<ApiKeyOut>(`/apikeys/${encodeURIComponent(k.id)}/revoke`);
                  toast(t("admin.keys.done", { name: k.name }), "ok");
                  revoked.checked = true; // show what was just revoked
                  await load();
                } catch (err) {
                  refuse(err, "revoke");
                }
              }),
        ]),
        { testid: "keys-table", empty: t("admin.keys.none"), rowAttrs: (i) => ({ "data-key-id": keys[i]?.id, "data-key-name": keys[i]?.name }) },
      ),
    );
  }

  replace(box, section(t("admin.keys.title"), form), section(t("admin.keys.list"), h("div", { class: "filters" }, h("label", { class: "check", for: "keys-include-revoked" }, revoked, t("admin.keys.includeRevoked"))), listBox));
  void load();
  return () => {
    alive = false;
  };
}
