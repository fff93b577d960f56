// The inspection form on the grid worker's phone: the venue category's checklist, hazards
// found, a photo (size- and type-checked) and the phone's position (accuracy recorded; a
// refusal recorded as such). Saved in the phone's outbox and sent when online.

import { categoryName, i18n, label, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { newKey } from "../outbox";
import { photoProblem, phoneOutbox } from "../roundsync";
import { formatDateTime } from "../time";
import { badge, dl, field, select } from "./common";
import { checklists, hazardCategories, markVisited, type DueEntry, type HazardCategory } from "./roundsdata";

export interface GpsReading {
  gps_status: "recorded" | "denied" | "unavailable";
  gps_lon?: number;
  gps_lat?: number;
  gps_accuracy_m?: number;
  gps_at?: string;
}

/** The phone's position, or why there is none (never throws, never waits > 15 s). */
export function readPosition(timeoutMs = 15000): Promise<GpsReading> {
  if (typeof navigator === "undefined" || !("geolocation" in navigator)) return Promise.resolve({ gps_status: "unavailable" });
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) =>
        resolve({
          gps_status: "recorded",
          gps_lon: p.coords.longitude,
          gps_lat: p.coords.latitude,
          gps_accuracy_m: Math.round(p.coords.accuracy * 10) / 10,
          gps_at: new Date(p.timestamp || Date.now()).toISOString(),
        }),
      (err) => resolve({ gps_status: err.code === 1 ? "denied" : "unavailable" }),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60000 },
    );
  });
}

interface HazardDraft {
  category: string;
  severity: string;
  description: string;
}

function catName(c: HazardCategory | undefined, code: string): string {
  if (!c) return code;
  return i18n.locale === "en" ? c.name_en : c.name_zh;
}

export async function showVisitForm(page: HTMLElement, status: HTMLElement, venueId: number, entry: DueEntry | null): Promise<void> {
  const [lists, cats] = await Promise.all([checklists().catch(() => null), hazardCategories().catch(() => null)]);
  const checklistCode = entry && lists?.value[entry.checklist] ? entry.checklist : lists?.value.general ? "general" : "";
  const checklist = checklistCode ? lists?.value[checklistCode] : undefined;
  const categories = cats?.value ?? [];
  const name = entry?.venue_name ?? t("rounds.venueN", { id: venueId });

  // position: asked once when the form opens
  let gps: GpsReading | null = null;
  const gpsLine = h("p", { class: "gps-status muted", role: "status", "data-testid": "gps-status" }, t("rounds.gpsLocating"));
  const retryGps = h("button", { type: "button", class: "btn btn-ghost", hidden: true }, t("rounds.gpsRetry"));
  const locate = async () => {
    retryGps.hidden = true;
    gpsLine.textContent = t("rounds.gpsLocating");
    gps = await readPosition();
    gpsLine.dataset.state = gps.gps_status;
    gpsLine.textContent =
      gps.gps_status === "recorded" ? t("rounds.gpsRecorded", { m: gps.gps_accuracy_m ?? "?" }) : gps.gps_status === "denied" ? t("rounds.gpsDenied") : t("rounds.gpsUnavailable");
    retryGps.hidden = gps.gps_status === "recorded";
  };
  retryGps.addEventListener("click", () => void locate());
  const firstFix = locate();

  // checklist: ok / fail / n.a. per item
  const items = checklist?.items ?? [];
  const checklistEl = h(
    "div",
    { class: "checklist", "data-testid": "checklist" },
    items.map((item, i) =>
      h(
        "fieldset",
        { class: "choices checklist-item", "data-item": item.code },
        h("legend", null, `${i + 1}. ${i18n.locale === "en" ? item.en : item.zh}`),
        h(
          "div",
          { class: "row" },
          ["ok", "fail", "na"].map((answer) =>
            h(
              "label",
              { class: "choice", for: `ck-${item.code}-${answer}` },
              h("input", { type: "radio", name: `ck-${item.code}`, id: `ck-${item.code}-${answer}`, value: answer, checked: answer === "ok" }),
              " ",
              label("checkAnswer", answer),
            ),
          ),
        ),
      ),
    ),
  );

  // hazards found
  const hazards: HazardDraft[] = [];
  const hazardList = h("ul", { class: "cards", "data-testid": "hazard-drafts" });
  const paintHazards = () =>
    replace(
      hazardList,
      hazards.map((hz, i) =>
        h(
          "li",
          { class: "queue-item" },
          h("strong", null, catName(categories.find((c) => c.code === hz.category), hz.category)),
          " ",
          badge("severity", hz.severity),
          hz.description ? h("span", { class: "muted block" }, hz.description) : null,
          h("button", { type: "button", class: "btn btn-ghost", onclick: () => { hazards.splice(i, 1); paintHazards(); } }, t("rounds.removeHazard")),
        ),
      ),
    );
  const category = select("hz-category", categories.map((c) => [c.code, catName(c, c.code)]));
  const severity = select("hz-severity", [["general", label("severity", "general")], ["major", label("severity", "major")]], "general");
  const description = h("input", { id: "hz-description", maxlength: 500 });
  const addHazard = h("button", { type: "button", class: "btn", id: "hz-add" }, t("rounds.addHazard"));
  addHazard.addEventListener("click", () => {
    if (!category.value) return;
    hazards.push({ category: category.value, severity: severity.value, description: description.value.trim() });
    description.value = "";
    paintHazards();
  });

  const notAccessible = h("input", { type: "checkbox", id: "visit-closed" });
  const note = h("textarea", { id: "visit-note", rows: 3, maxlength: 2000 });
  const photo = h("input", { id: "visit-photo", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment" });
  const photoError = h("p", { class: "form-error", role: "alert", "data-testid": "photo-error" });
  photo.addEventListener("change", () => {
    const problem = photoProblem(photo.files?.[0]);
    photoError.textContent = problem ? t(problem) : "";
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", id: "visit-submit" }, t("rounds.submit"));
  const formError = h("p", { class: "form-error", role: "alert", "data-testid": "visit-error" });

  const form = h(
    "form",
    {
      class: "visit-form",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        formError.textContent = "";
        const file = photo.files?.[0] ?? null;
        const problem = photoProblem(file);
        if (problem) {
          formError.textContent = t(problem);
          return;
        }
        const answers: Record<string, string> = {};
        for (const item of items) {
          const chosen = checklistEl.querySelector<HTMLInputElement>(`input[name="ck-${item.code}"]:checked`);
          if (chosen) answers[item.code] = chosen.value;
        }
        const closed = notAccessible.checked;
        if (!closed && Object.values(answers).includes("fail") && !hazards.length) {
          formError.textContent = t("rounds.failNeedsHazard");
          return;
        }
        const body: Record<string, unknown> = {
          venue_id: venueId,
          inspected_at: new Date().toISOString(),
          result: closed ? "not_accessible" : hazards.length ? "hazards_found" : "passed",
          note: note.value,
          hazards: closed ? [] : hazards,
          checklist: closed ? "" : checklistCode,
          checklist_answers: closed || !checklistCode ? {} : answers,
        };
        submit.disabled = true;
        if (gps === null) await Promise.race([firstFix, new Promise((r) => setTimeout(r, 3000))]);
        Object.assign(body, gps ?? { gps_status: "unavailable" });
        try {
          await phoneOutbox().add({ key: newKey("insp"), kind: "inspection", label: name, body, photo: file, photoName: file?.name });
          markVisited(venueId);
          toast(navigator.onLine === false ? t("rounds.savedOffline") : t("rounds.saved"), "ok");
          location.hash = "#/rounds";
        } catch (err) {
          formError.textContent = String(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h3", null, checklist ? (i18n.locale === "en" ? checklist.name_en : checklist.name_zh) : t("rounds.checklist")),
    checklistEl,
    h("h3", null, t("rounds.hazardsFound")),
    hazardList,
    h("div", { class: "row" }, field(t("rounds.category"), category), field(t("rounds.severity"), severity)),
    field(t("rounds.hazardDescription"), description),
    addHazard,
    h("div", { class: "field field-inline" }, h("label", { for: "visit-closed" }, notAccessible, " ", t("rounds.notAccessible"))),
    field(t("actions.note"), note),
    field(t("rounds.photo"), photo),
    photoError,
    h("div", { class: "row" }, gpsLine, retryGps),
    formError,
    submit,
  );

  replace(
    page,
    h("a", { href: "#/rounds", class: "back" }, `← ${t("rounds.title")}`),
    h("h2", null, name),
    status,
    entry
      ? dl([
          [t("fields.category"), categoryName(entry.category)],
          [t("fields.address"), entry.address || null],
          [t("fields.colour"), badge("colour", entry.colour)],
          [t("rounds.grade"), entry.grade === "none" ? null : badge("grade", entry.grade)],
          [t("rounds.lastInspected"), entry.last_inspected_at ? formatDateTime(entry.last_inspected_at, i18n.locale) : null],
        ])
      : null,
    entry?.lat !== null && entry?.lat !== undefined ? h("a", { class: "btn btn-block", href: `geo:${entry.lat},${entry.lon}` }, t("tasks.navigate")) : null,
    form,
  );
}
