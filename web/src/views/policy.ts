// Monitoring-centre supervisor: the alarm policy in force (timers, forwarding map, rules),
// an editor for the timers with the server's validation problems shown by field, and the
// version history. Every save is a new version; every process takes it up without restart.

import { api, can, categoryName, fail, i18n, label, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { formatDateTime } from "../time";
import { problemsOf, problemText, type Problem } from "../problems";
import { busy, dl, duration, field, section, table } from "./common";
import type { Policy, PolicyHistoryOut, PolicyVersionOut as Version, PolicyVersionSummaryOut } from "../generated/api";

/** The policy's timers and maps: the server sends every field (PolicyDocument.as_data), the
 * generated type marks the ones with a default optional. */
export type PolicyBody = Required<Policy>;

/** Timers edited one by one: [field path, policy key, optional map key]. */
const SINGLE: (keyof PolicyBody)[] = ["acknowledge_timeout_s", "task_due_s", "fold_window_s", "night_occupied_verify_timeout_s", "reminder_interval_s"];

function fieldLabel(path: string): string {
  const key = path.replace(/^policy\./, "");
  const [head, sub] = key.split(".", 2);
  const name = t(`policy.fields.${head}`);
  const base = name === `policy.fields.${head}` ? key : name;
  if (!sub) return base;
  const which = head === "work_order_due_s" ? label("workOrderKind", sub) : sub === "default" ? t("policy.default") : categoryName(sub);
  return `${base} · ${which}`;
}

function value(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return t("policy.ruleChanged");
  return String(v);
}

export function mountPolicy(root: HTMLElement): () => void {
  const page = h("div", { class: "panel page", "data-testid": "policy-page" });
  root.append(page);
  let alive = true;

  async function load(): Promise<void> {
    try {
      const [current, history] = await Promise.all([
        api.get<Version>("/alarms/policy"),
        api.get<PolicyHistoryOut>("/alarms/policy/versions", { limit: 50 }),
      ]);
      if (alive) render(current, history.items);
    } catch (err) {
      fail(err);
    }
  }

  function render(current: Version, history: PolicyVersionSummaryOut[]): void {
    const doc = current.document;
    const policy = doc.policy as PolicyBody; // every field is sent (see PolicyBody)
    replace(
      page,
      h("h2", null, t("policy.title")),
      h(
        "p",
        { class: "muted", "data-testid": "policy-version", "data-version": String(current.version) },
        t("policy.inForce", { v: current.version, who: current.created_by, at: formatDateTime(current.created_at, i18n.locale) }),
        current.cause ? ` · ${current.cause}` : "",
      ),
      can("alarms:policy") ? editor(current, policy) : timersView(policy),
      section(
        t("policy.forwarding"),
        table(
          [t("fields.category"), t("fields.incidentType")],
          Object.entries(policy.incident_kind).map(([cat, kind]) => [cat === "default" ? t("policy.default") : categoryName(cat), label("incidentType", kind)]),
          { testid: "policy-forwarding" },
        ),
      ),
      section(
        t("policy.rules"),
        table(
          [t("policy.ruleName"), t("policy.ruleDescription"), t("policy.ruleAction"), t("policy.enabled")],
          doc.rules.map((r) => [r.name, r.description, label("ruleAction", r.then.action), r.enabled ? t("common.yes") : t("common.no")]),
          { testid: "policy-rules" },
        ),
      ),
      section(
        t("policy.history"),
        table(
          [t("policy.version"), t("policy.when"), t("policy.author"), t("policy.cause"), t("policy.changes")],
          history.map((v) => [
            String(v.version),
            formatDateTime(v.created_at, i18n.locale),
            v.created_by,
            v.cause,
            v.changes.length ? h("ul", { class: "plain" }, v.changes.map((c) => h("li", null, `${fieldLabel(c.field)}: ${value(c.before)} → ${value(c.after)}`))) : "—",
          ]),
          { testid: "policy-history" },
        ),
      ),
    );
  }

  function timersView(policy: PolicyBody): HTMLElement {
    return section(
      t("policy.timers"),
      dl([
        ...SINGLE.map((k): [string, string] => [fieldLabel(k), duration(policy[k] as number | null)]),
        [fieldLabel("task_pauses_auto_forward"), policy.task_pauses_auto_forward ? t("common.yes") : t("common.no")],
        ...Object.entries(policy.verify_timeout_s).map(([k, v]): [string, string] => [fieldLabel(`verify_timeout_s.${k}`), duration(v)]),
      ]),
    );
  }

  function editor(current: Version, policy: PolicyBody): HTMLElement {
    const inputs = new Map<string, HTMLInputElement>();
    const number = (path: string, v: number | null): HTMLInputElement => {
      const input = h("input", { id: `policy-${path.replace(/\./g, "-")}`, type: "number", min: "1", step: "1", value: v === null ? "" : String(v), "data-field": `policy.${path}` });
      inputs.set(path, input);
      return input;
    };
    const pauses = h("input", { id: "policy-task_pauses_auto_forward", type: "checkbox", checked: policy.task_pauses_auto_forward, "data-field": "policy.task_pauses_auto_forward" });
    const cause = h("input", { id: "policy-cause", type: "text", required: true, maxlength: "500" });
    const problems = h("ul", { class: "problems", role: "alert", "data-testid": "policy-problems" });
    const save = h("button", { type: "submit", class: "btn btn-primary" }, t("policy.save"));

    function collect(): PolicyBody {
      const next: PolicyBody = { ...policy, verify_timeout_s: { ...policy.verify_timeout_s }, work_order_due_s: { ...policy.work_order_due_s } };
      for (const [path, input] of inputs) {
        const raw = input.value.trim();
        const n = raw === "" ? null : Number(raw);
        const [head, sub] = path.split(".", 2);
        if (sub) (next[head as "verify_timeout_s" | "work_order_due_s"] as Record<string, number | null>)[sub] = n;
        else (next as unknown as Record<string, number | null>)[head] = n;
      }
      next.task_pauses_auto_forward = pauses.checked;
      return next;
    }

    function show(list: Problem[]): void {
      for (const input of [...inputs.values(), pauses]) input.removeAttribute("aria-invalid");
      for (const p of list) page.querySelector(`[data-field="${p.field}"]`)?.setAttribute("aria-invalid", "true");
      replace(problems, list.map((p) => h("li", { "data-problem": p.field }, `${fieldLabel(p.field)}: ${problemText(p, t)}`)));
    }

    async function submit(ev: Event): Promise<void> {
      ev.preventDefault();
      await busy(save, async () => {
        try {
          const document = { policy: collect(), rules: current.document.rules };
          const stored = await api.post<Version>("/alarms/policy/versions", { document, cause: cause.value.trim(), base_version: current.version });
          show([]);
          toast(t("policy.saved", { v: stored.version }), "ok");
          await load();
        } catch (err) {
          const list = problemsOf(err);
          if (list.length) show(list);
          else fail(err);
        }
      });
    }

    const rows = (group: "verify_timeout_s" | "work_order_due_s") =>
      Object.entries(policy[group]).map(([k, v]) => field(fieldLabel(`${group}.${k}`), number(`${group}.${k}`, v)));

    return section(
      t("policy.timers"),
      h(
        "form",
        { class: "policy-form", "data-testid": "policy-form", onsubmit: (ev: Event) => void submit(ev) },
        h("p", { class: "muted" }, t("policy.secondsHint")),
        h("div", { class: "policy-grid" }, SINGLE.map((k) => field(fieldLabel(k), number(k, policy[k] as number | null)))),
        h("div", { class: "field" }, h("label", { for: pauses.id }, pauses, " ", fieldLabel("task_pauses_auto_forward"))),
        h("fieldset", null, h("legend", null, fieldLabel("verify_timeout_s")), h("div", { class: "policy-grid" }, rows("verify_timeout_s"))),
        h("fieldset", null, h("legend", null, fieldLabel("work_order_due_s")), h("div", { class: "policy-grid" }, rows("work_order_due_s"))),
        field(t("policy.cause"), cause),
        problems,
        save,
      ),
    );
  }

  void load();
  return () => {
    alive = false;
  };
}
