// Additions to the command centre: type-ahead of places in call intake, notes and photos
// on the timeline, the fire record of a closed incident (report form, review and lock),
// and closing with units on scene only after the dispatcher confirms.

import { ApiError } from "../api";
import { api, fail, i18n, label, t, toast } from "../ctx";
import { debounce, h, replace } from "../dom";
import { busy, dl, duration, field, section, select } from "./common";
import type { CodeListOut, IncidentReportOut, PlaceHitOut, PlaceSearchOut } from "../generated/api";

/** A list of places under the address box, refreshed as the call-taker types. */
export function placeTypeahead(input: HTMLInputElement, onPick: (hit: PlaceHitOut) => void): HTMLElement {
  const list = h("ul", { class: "typeahead", role: "listbox", "data-testid": "place-typeahead", "aria-label": t("intake.placesList") });
  const search = debounce(async () => {
    const q = input.value.trim();
    if (!q) {
      replace(list);
      return;
    }
    try {
      const r = await api.get<PlaceSearchOut>("/intake/places", { q, limit: 8 });
      replace(
        list,
        r.items.map((hit) =>
          h(
            "li",
            { role: "option" },
            h(
              "button",
              { type: "button", class: "btn btn-link", onclick: () => { input.value = hit.name; replace(list); onPick(hit); } },
              `${hit.name} · ${hit.town} · ${t(`intake.kind.${hit.kind}`)}`,
            ),
          ),
        ),
      );
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 422)) fail(err);
    }
  }, 150);
  input.addEventListener("input", () => void search());
  return list;
}

/** Move an incident's status; closing with units on scene asks first. */
export async function moveStatus(incidentId: number, status: string): Promise<void> {
  try {
    await api.post(`/incidents/${incidentId}/status`, { status });
  } catch (err) {
    if (err instanceof ApiError && err.code === "units_on_scene" && window.confirm(t("intake.confirmClose"))) {
      await api.post(`/incidents/${incidentId}/status`, { status, confirm: true });
      return;
    }
    throw err;
  }
}

const COUNTS = ["civilian_injured", "civilian_killed", "firefighter_injured", "firefighter_killed", "direct_loss_yuan", "area_burned_m2"];

/** Notes and photos, and (once closed) the fire record with review and lock. */
export function incidentExtras(incidentId: number, status: string, refresh: () => Promise<void>): HTMLElement[] {
  const note = h("textarea", { id: "note-text", rows: 2, maxlength: 2000 });
  const addNote = h("button", { type: "button", class: "btn", id: "note-add" }, t("intake.addNote"));
  addNote.addEventListener("click", () =>
    void busy(addNote, async () => {
      if (!note.value.trim()) return;
      await api.post(`/incidents/${incidentId}/notes`, { text: note.value });
      note.value = "";
      await refresh();
    }).catch(fail),
  );
  const photo = h("input", { type: "file", id: "note-photo", accept: "image/jpeg,image/png,image/webp" });
  const addPhoto = h("button", { type: "button", class: "btn", id: "photo-add" }, t("intake.addPhoto"));
  addPhoto.addEventListener("click", () =>
    void busy(addPhoto, async () => {
      const file = photo.files?.[0];
      if (!file) return;
      const form = new FormData();
      form.append("photo", file);
      await api.request("POST", `/incidents/${incidentId}/attachments`, { form });
      await refresh();
    }).catch(fail),
  );
  const out = [section(t("intake.notes"), field(t("intake.note"), note), h("div", { class: "row" }, addNote, field(t("intake.photo"), photo), addPhoto))];
  if (status === "closed") {
    const box = h("div", { "data-testid": "fire-record" });
    out.push(section(t("intake.record"), box));
    void renderRecord(incidentId, box).catch(fail);
  }
  return out;
}

async function renderRecord(incidentId: number, box: HTMLElement): Promise<void> {
  const [report, codes] = await Promise.all([api.get<IncidentReportOut>(`/incidents/${incidentId}/report`), api.get<CodeListOut>("/fire-records-codes")]);
  const alarm = report.alarm.alarm_before_call === null ? t("intake.noVenue") : report.alarm.alarm_before_call ? t("intake.alarmFirst", { s: duration(report.alarm.alarm_lead_s) }) : t("intake.noAlarmFirst");
  const facts = dl([
    [t("analytics.col.processing").replace(" P90", "").replace(" p90", ""), duration(report.intervals.call_processing_s)],
    [t("analytics.col.firstP50").replace(" P50", "").replace(" p50", ""), duration(report.intervals.first_arrival_s)],
    [t("analytics.col.erfP90").replace(" P90", "").replace(" p90", ""), duration(report.intervals.effective_response_force_s)],
    [t("intake.alarm"), alarm],
  ]);
  const record = report.record;
  const locked = record?.review_state === "locked";
  // the record's fields by name (the coded and the count fields are read by name)
  const values: Record<string, unknown> = { ...record };
  const controls: Record<string, HTMLInputElement | HTMLSelectElement> = {};
  const fields = Object.entries(codes.fields).map(([name, list]) => {
    const options = Object.entries(codes.lists[list] ?? {}).map(([code, n]): [string, string] => [code, i18n.locale === "en" ? n.name_en : n.name_zh]);
    const control = select(`rec-${name}`, options, String(values[name] ?? "unknown"), { disabled: locked });
    controls[name] = control;
    return field(t(`intake.fields.${name}`), control);
  });
  const numbers = COUNTS.map((name) => {
    const control = h("input", { id: `rec-${name}`, type: "number", min: 0, value: String(values[name] ?? 0), disabled: locked });
    controls[name] = control;
    return field(t(`intake.fields.${name}`), control);
  });
  const actions = h("input", { id: "rec-actions", value: (record?.actions ?? ["extinguish"]).join(";"), disabled: locked });
  const save = h("button", { type: "button", class: "btn btn-primary", id: "record-save", disabled: locked }, t("intake.saveRecord"));
  save.addEventListener("click", () =>
    void busy(save, async () => {
      const body: Record<string, unknown> = { actions: actions.value.split(";").map((a) => a.trim()).filter(Boolean) };
      for (const [name, control] of Object.entries(controls)) body[name] = COUNTS.includes(name) ? Number(control.value) : control.value;
      await api.request("PUT", `/incidents/${incidentId}/record`, { body });
      toast(t("intake.saved"), "ok");
      await renderRecord(incidentId, box);
    }).catch(fail),
  );
  const review = (action: string) => {
    const b = h("button", { type: "button", class: "btn", "data-action": `record-${action}`, disabled: !record || locked }, t(`intake.review.${action}`));
    b.addEventListener("click", () =>
      void busy(b, async () => {
        if (!record) return;
        await api.post(`/fire-records/${record.id}/review`, { action });
        await renderRecord(incidentId, box);
      }).catch(fail),
    );
    return b;
  };
  replace(
    box,
    facts,
    h("p", { class: locked ? "ok" : "muted" }, record ? label("reviewState", record.review_state) : t("intake.recordDue")),
    h("div", { class: "form-grid" }, fields, numbers, field(t("intake.fields.actions"), actions)),
    h("div", { class: "actions" }, save, review("submit"), review("return"), review("lock")),
  );
}
