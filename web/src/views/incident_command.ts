// Command actions on an incident (dispatch view): escalate (command one level up, or a
// higher level), ask the command post for reinforcements (增援), ask a neighbouring town for
// units (区域联防 / mutual aid), and follow those requests' answers live. The receiving side
// answers in its inbox: accept (its forces, recommended by road time) or decline with a reason.

import { api, can, i18n, label, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { VehicleTypeValues } from "../generated/enums";
import type { AidRequestOut, Counted_AidRequestOut_, Counted_NeighbourTownOut_, JurisdictionOut } from "../generated/api";
import { formatDateTime, formatTime } from "../time";
import { busy, field, section, select } from "./common";
import { refuse } from "./admin_common";
import "./admin.css";

export interface CommandIncident {
  id: number;
  status: string;
  level: number;
  aid_requests?: AidRequestOut[];
}

/** The town a joint-defence request of an incident goes to, as the dispatcher chose it. */
const chosenTown = new Map<number, string>();

/** Town names by path, read once per page load (33 towns; the paths of aid requests). */
const townNames = new Map<string, JurisdictionOut>();
let townsLoaded: Promise<void> | null = null;

function loadTownNames(): Promise<void> {
  townsLoaded ??= api
    .get<{ items: JurisdictionOut[] }>("/jurisdictions", { level: "town", limit: 1000 })
    .then((page) => {
      for (const j of page.items) townNames.set(j.path, j);
    })
    .catch(() => {
      townsLoaded = null;
    });
  return townsLoaded;
}

/** A jurisdiction path as its town's name when known, else its last code. */
function placeName(path: string): string {
  const town = townNames.get(path);
  if (town) return i18n.locale === "en" ? town.name_en : town.name_zh;
  return path.split("/").filter(Boolean).pop() ?? path;
}

function requirementText(r: Record<string, unknown>): string {
  const what = r.vehicle_type ? label("vehicleType", String(r.vehicle_type)) : String(r.capability ?? "");
  return `${what} × ${Number(r.count ?? 1)}`;
}

/** One aid request with its state and answer (both sides). */
export function aidItem(r: AidRequestOut, extra: Node | null = null): HTMLElement {
  const answer =
    r.status === "pending"
      ? h("span", { class: "muted" }, t("command.waiting"))
      : h(
          "span",
          { "data-testid": "aid-answer" },
          `${r.answered_by} · ${r.answered_at ? formatTime(r.answered_at, i18n.locale) : ""}`,
          r.answer_note ? ` · ${t("command.reason")}: ${r.answer_note}` : "",
          r.vehicle_ids.length ? ` · ${t("command.unitsSent", { n: r.vehicle_ids.length })}` : "",
        );
  return h(
    "li",
    { class: "aid-item", "data-aid-id": r.id, "data-status": r.status, "data-kind": r.kind },
    h("div", null, h("strong", null, `${label("aidKind", r.kind)} #${r.id}`), " ", h("span", { class: `badge badge-aid-${r.status}` }, label("aidStatus", r.status))),
    h("div", { class: "muted" }, `${t("command.incident", { id: r.incident_id })} · ${placeName(r.from_path)} → ${placeName(r.to_path)} · ${formatDateTime(r.requested_at, i18n.locale)}`),
    h("div", null, r.requirements.map(requirementText).join("、"), r.note ? ` · ${r.note}` : ""),
    h("div", null, answer),
    extra,
  );
}

function requirementControls(prefix: string): { el: HTMLElement; read: () => { vehicle_type: string; count: number }[] | null } {
  const type = select(`${prefix}-vehicle`, VehicleTypeValues.map((v): [string, string] => [v, label("vehicleType", v)]), "pumper");
  const count = h("input", { id: `${prefix}-count`, type: "number", min: 1, max: 50, value: "1", inputmode: "numeric" });
  return {
    el: h("div", { class: "row" }, field(t("fields.vehicleType"), type), field(t("command.count"), count)),
    read: () => {
      const n = Number(count.value);
      if (!Number.isInteger(n) || n < 1 || n > 50) {
        count.setAttribute("aria-invalid", "true");
        toast(t("command.badCount"), "error");
        count.focus();
        return null;
      }
      count.removeAttribute("aria-invalid");
      return [{ vehicle_type: type.value, count: n }];
    },
  };
}

/**
 * The command card of an open incident: escalate, reinforcements, joint defence, and the
 * requests already made with their answers (updated when the incident is refreshed live).
 */
export function commandSection(inc: CommandIncident, refresh: () => Promise<void>): HTMLElement {
  const requests = h("ul", { class: "aid-list", "data-testid": "aid-requests", "aria-live": "polite" });
  const drawRequests = () =>
    replace(requests, inc.aid_requests?.length ? [...inc.aid_requests].reverse().map((r) => aidItem(r)) : h("li", { class: "muted" }, t("command.noRequests")));
  drawRequests();
  if (inc.aid_requests?.length && !townNames.size) void loadTownNames().then(drawRequests);
  const closed = inc.status === "closed";
  if (closed) return section(t("command.title"), h("p", { class: "closed-note" }, t("command.closed")), requests);

  const parts: HTMLElement[] = [];
  if (can("incidents:write")) {
    const cause = h("input", { id: "escalate-cause", autocomplete: "off", maxlength: 300 });
    const levels: [string, string][] = [["", t("command.keepLevel")], ...[2, 3, 4, 5].filter((n) => n > inc.level).map((n): [string, string] => [String(n), t("dispatch.levelN", { n })])];
    const newLevel = select("escalate-level", levels, "");
    const go = h("button", { type: "button", class: "btn", "data-action": "escalate" }, t("command.escalate"));
    go.addEventListener("click", () =>
      void busy(go, async () => {
        if (!cause.value.trim()) {
          cause.setAttribute("aria-invalid", "true");
          toast(t("command.causeRequired"), "error");
          cause.focus();
          return;
        }
        try {
          await api.post(`/incidents/${inc.id}/escalate`, { cause: cause.value.trim(), new_level: newLevel.value ? Number(newLevel.value) : null });
          toast(t("command.escalated"), "ok");
          await refresh();
        } catch (err) {
          refuse(err, "escalate");
        }
      }),
    );
    parts.push(h("fieldset", { class: "command-form" }, h("legend", null, t("command.escalateTitle")), h("div", { class: "row" }, field(t("command.cause"), cause), field(t("fields.level"), newLevel)), go));

    if (inc.status !== "created") {
      const req = requirementControls("reinforce");
      const note = h("input", { id: "reinforce-note", autocomplete: "off", maxlength: 300 });
      const ask = h("button", { type: "button", class: "btn", "data-action": "reinforce" }, t("command.reinforce"));
      ask.addEventListener("click", () =>
        void busy(ask, async () => {
          const requirements = req.read();
          if (!requirements) return;
          try {
            await api.post(`/incidents/${inc.id}/reinforcements`, { requirements, note: note.value.trim() });
            toast(t("command.requested"), "ok");
            await refresh();
          } catch (err) {
            refuse(err, "reinforce");
          }
        }),
      );
      parts.push(h("fieldset", { class: "command-form" }, h("legend", null, t("command.reinforceTitle")), req.el, field(t("command.note"), note), ask));
    }
  }
  if (can("incidents:dispatch")) {
    const town = select("joint-town", [["", t("command.loadingTowns")]], "");
    const req = requirementControls("joint");
    const note = h("input", { id: "joint-note", autocomplete: "off", maxlength: 300 });
    const ask = h("button", { type: "button", class: "btn", "data-action": "joint-defence" }, t("command.joint"));
    town.addEventListener("change", () => {
      if (town.value) chosenTown.set(inc.id, town.value);
    });
    void api
      .get<Counted_NeighbourTownOut_>(`/incidents/${inc.id}/neighbour-towns`)
      .then((r) => {
        // the options arrive after a pushed re-render restored the fields: keep the choice
        const wanted = chosenTown.get(inc.id) ?? town.value;
        replace(town, r.items.length ? r.items.map((x) => h("option", { value: x.code }, i18n.locale === "en" ? x.name_en : x.name_zh)) : h("option", { value: "" }, t("command.noNeighbours")));
        if (r.items.some((x) => x.code === wanted)) town.value = wanted;
      })
      .catch((err: unknown) => refuse(err, "load"));
    ask.addEventListener("click", () =>
      void busy(ask, async () => {
        if (!town.value) {
          toast(t("command.townRequired"), "error");
          town.focus();
          return;
        }
        const requirements = req.read();
        if (!requirements) return;
        try {
          await api.post(`/incidents/${inc.id}/joint-defence`, { to_town_code: town.value, requirements, note: note.value.trim() });
          toast(t("command.requested"), "ok");
          await refresh();
        } catch (err) {
          refuse(err, "jointDefence");
        }
      }),
    );
    parts.push(h("fieldset", { class: "command-form" }, h("legend", null, t("command.jointTitle")), field(t("command.town"), town), req.el, field(t("command.note"), note), ask));
  }
  return section(t("command.title"), ...parts, h("h4", null, t("command.requests")), requests);
}

/**
 * Requests addressed to the caller's area, pending first: accept (units recommended from the
 * caller's forces) or decline with a reason. `reloadSignal` is called by the view when the
 * live channel reports an incident change (a new request arrives as one).
 */
export function aidInbox(): { el: HTMLElement; reload: () => Promise<void> } {
  const list = h("ul", { class: "aid-list", "data-testid": "aid-inbox" });
  const count = h("span", { class: "badge", "data-testid": "aid-inbox-count" }, "0");
  const box = h("section", { class: "card", "aria-labelledby": "aid-inbox-title", hidden: true }, h("h3", { id: "aid-inbox-title" }, t("command.inbox"), " ", count), list);

  function answerControls(r: AidRequestOut): HTMLElement {
    const reason = h("input", { id: `aid-${r.id}-reason`, autocomplete: "off", maxlength: 300, "aria-label": t("command.reasonOf", { id: r.id }), placeholder: t("command.reason") });
    const accept = h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "aid-accept" }, t("command.accept"));
    const decline = h("button", { type: "button", class: "btn btn-small", "data-action": "aid-decline" }, t("command.decline"));
    const answer = (ok: boolean, button: HTMLButtonElement) =>
      void busy(button, async () => {
        if (!ok && !reason.value.trim()) {
          reason.setAttribute("aria-invalid", "true");
          toast(t("command.reasonRequired"), "error");
          reason.focus();
          return;
        }
        try {
          await api.post(`/aid-requests/${r.id}/answer`, { accept: ok, note: reason.value.trim() });
          toast(ok ? t("command.accepted") : t("command.declined"), "ok");
          await reload();
        } catch (err) {
          refuse(err, ok ? "aidAccept" : "answer");
        }
      });
    accept.addEventListener("click", () => answer(true, accept));
    decline.addEventListener("click", () => answer(false, decline));
    return h("div", { class: "inline-form" }, reason, accept, decline);
  }

  async function reload(): Promise<void> {
    if (!can("incidents:read")) return;
    try {
      const [r] = await Promise.all([api.get<Counted_AidRequestOut_>("/aid-requests", { status: "pending" }), loadTownNames()]);
      box.hidden = !r.items.length;
      count.textContent = String(r.items.length);
      replace(list, r.items.map((x) => aidItem(x, can("incidents:dispatch") ? answerControls(x) : null)));
    } catch (err) {
      refuse(err, "load");
    }
  }
  return { el: box, reload };
}
