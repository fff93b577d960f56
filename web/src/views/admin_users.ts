// Admin: the users of the caller's jurisdiction — list (by role, disabled), create (a
// generated password shown once), change role, disable or enable, reset the password.

import { checkUser } from "../adminforms";
import { api, i18n, label, state, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { RoleValues } from "../generated/enums";
import type { UserOut, UserPage, UserWithPasswordOut } from "../generated/api";
import { formatDateTime } from "../time";
import { busy, field, section, select, table } from "./common";
import { applyProblems, moreButton, problemField, refuse, scopeList, secretBox, showServerProblem, twoStepButton } from "./admin_common";

const roleOptions = (): [string, string][] => RoleValues.map((r) => [r, label("roles", r)]);

export function usersTab(box: HTMLElement): () => void {
  const me = state.me;
  let alive = true;
  let cursor: string | null = null;
  let rows: UserOut[] = [];

  // Create -------------------------------------------------------------------------------
  const username = h("input", { id: "user-username", autocomplete: "off", maxlength: 64, required: true });
  const displayName = h("input", { id: "user-display_name", autocomplete: "off", maxlength: 120 });
  const role = select("user-role", roleOptions(), "monitor_operator");
  const scope = h("input", { id: "user-scope_code", autocomplete: "off", list: "user-scope-list", maxlength: 32, value: me?.scope_code ?? "", required: true });
  const password = h("input", { id: "user-password", type: "password", autocomplete: "new-password", maxlength: 1024 });
  const venues = h("input", { id: "user-venue_ids", autocomplete: "off", inputmode: "numeric" });
  const venuesField = problemField(t("admin.users.venueIds"), venues, t("admin.users.venueIdsHint"));
  const showVenues = () => (venuesField.hidden = role.value !== "venue_manager");
  role.addEventListener("change", showVenues);
  showVenues();
  const created = h("div", { "data-testid": "user-created" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "user-create" }, t("admin.users.create"));
  const form = h(
    "form",
    { class: "admin-form", "aria-label": t("admin.users.new"), "data-testid": "user-form", novalidate: true },
    h(
      "div",
      { class: "form-grid" },
      problemField(t("admin.users.username"), username, t("admin.users.usernameHint")),
      problemField(t("admin.users.displayName"), displayName),
      problemField(t("admin.role"), role),
      problemField(t("admin.scopeCode"), scope, t("admin.scopeHint")),
      problemField(t("admin.users.password"), password, t("admin.users.passwordHint")),
      venuesField,
    ),
    scopeList("user-scope-list", me?.scope_code ?? ""),
    submit,
    created,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const checked = checkUser(
      { username: username.value, display_name: displayName.value, role: role.value, scope_code: scope.value, password: password.value, venue_ids: venues.value },
      RoleValues,
    );
    applyProblems(form, "user", checked.problems);
    if (!checked.body) return;
    const body = checked.body;
    void busy(submit, async () => {
      try {
        const r = await api.post<UserWithPasswordOut>("/users", body);
        toast(t("admin.users.created", { name: r.user.username }), "ok");
        replace(created, r.password ? secretBox(t("admin.users.generatedPassword", { name: r.user.username }), r.password, "user-password-once") : null);
        username.value = "";
        displayName.value = "";
        password.value = "";
        venues.value = "";
        await load(true);
      } catch (err) {
        showServerProblem(form, "user", err);
      }
    });
  });

  // List ---------------------------------------------------------------------------------
  const roleFilter = select("users-role-filter", [["", t("admin.all")], ...roleOptions()], "");
  const disabledFilter = select("users-disabled-filter", [["", t("admin.all")], ["false", t("admin.users.active")], ["true", t("admin.users.disabled")]], "");
  const listBox = h("div", { "data-testid": "users-list" });
  const once = h("div", { "data-testid": "user-reset" });
  const more = moreButton("users-more", () => load(false));
  roleFilter.addEventListener("change", () => void load(true));
  disabledFilter.addEventListener("change", () => void load(true));

  async function load(fresh: boolean): Promise<void> {
    if (fresh) {
      cursor = null;
      rows = [];
    }
    try {
      const page = await api.get<UserPage>("/users", { role: roleFilter.value || null, disabled: disabledFilter.value || null, limit: 50, cursor });
      if (!alive) return;
      rows = fresh ? page.items : [...rows, ...page.items];
      cursor = page.next_cursor;
      more.hidden = !cursor;
      draw();
    } catch (err) {
      refuse(err, "load");
    }
  }

  function draw(): void {
    replace(
      listBox,
      table(
        [t("admin.users.username"), t("admin.users.displayName"), t("admin.role"), t("admin.scopeCode"), t("admin.users.venueIds"), t("fields.status"), t("admin.users.lastLogin"), t("fields.action")],
        rows.map((u) => [
          u.username,
          u.display_name,
          roleCell(u),
          u.scope_code,
          u.venue_ids.join(", "),
          h("span", { class: `badge ${u.disabled ? "badge-off" : "badge-on"}`, "data-testid": `user-state-${u.username}` }, u.disabled ? t("admin.users.disabled") : t("admin.users.active")),
          u.last_login_at ? formatDateTime(u.last_login_at, i18n.locale) : "",
          actions(u),
        ]),
        { testid: "users-table", empty: t("admin.users.none"), rowAttrs: (i) => ({ "data-username": rows[i]?.username }) },
      ),
    );
  }

  function roleCell(u: UserOut): HTMLElement {
    // your own role is not yours to change (the API refuses it too)
    const s = select(`user-${u.id}-role`, roleOptions(), u.role, { "aria-label": t("admin.users.roleOf", { name: u.username }), disabled: me?.username === u.username });
    s.addEventListener("change", () => {
      // (the API unlinks a venue manager's venues when its role changes)
      void patch(u, { role: s.value }, "role").then((ok) => {
        if (!ok) s.value = u.role;
      });
    });
    return s;
  }

  async function patch(u: UserOut, body: Record<string, unknown>, action: string): Promise<boolean> {
    try {
      await api.request<UserOut>("PATCH", `/users/${u.id}`, { body });
      toast(t(`admin.users.done.${action}`, { name: u.username }), "ok");
      await load(true);
      return true;
    } catch (err) {
      refuse(err, action);
      return false;
    }
  }

  function actions(u: UserOut): HTMLElement {
    const isMe = me?.username === u.username;
    const toggle = u.disabled
      ? h("button", { type: "button", class: "btn btn-small", "data-action": "enable", onclick: () => void patch(u, { disabled: false }, "enable") }, t("admin.users.enable"))
      : twoStepButton(t("admin.users.disable"), t("admin.users.confirmDisable"), { "data-action": "disable", disabled: isMe, "aria-label": t("admin.users.disableOf", { name: u.username }) }, async () => {
          await patch(u, { disabled: true }, "disable");
        });
    const reset = twoStepButton(t("admin.users.reset"), t("admin.users.confirmReset"), { "data-action": "reset-password", "aria-label": t("admin.users.resetOf", { name: u.username }) }, async () => {
      try {
        const r = await api.post<UserWithPasswordOut>(`/users/${u.id}/reset-password`, {});
        replace(once, r.password ? secretBox(t("admin.users.generatedPassword", { name: u.username }), r.password, "user-password-once") : null);
        toast(t("admin.users.done.reset", { name: u.username }), "ok");
      } catch (err) {
        refuse(err, "reset");
      }
    });
    return h("div", { class: "actions" }, toggle, reset);
  }

  replace(
    box,
    section(t("admin.users.title"), form),
    section(t("admin.users.list"), h("div", { class: "filters" }, field(t("admin.role"), roleFilter), field(t("fields.status"), disabledFilter)), once, listBox, more),
  );
  void load(true);
  return () => {
    alive = false;
  };
}
