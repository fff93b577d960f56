// A hazard's rectification order (整改通知) on the grid worker's phone: what, how serious,
// found when, the deadline, its status and history; rectified with a note and a photo,
// through the phone's outbox (sent when online, never twice).

import { api, fail, i18n, label, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { newKey } from "../outbox";
import { photoProblem, phoneOutbox } from "../roundsync";
import { formatDateTime } from "../time";
import { badge, dl, field, section, table } from "./common";
import { cached } from "./roundsdata";
import type { HazardOut, HazardPage } from "../generated/api";

function hazardName(hz: HazardOut): string {
  return i18n.locale === "en" ? hz.category_name_en : hz.category_name_zh;
}

export function mountHazardPages(page: HTMLElement, status: HTMLElement): { list: () => Promise<void>; show: (id: number) => Promise<void> } {
  async function list(): Promise<void> {
    try {
      const open = await cached("hazards", async () => (await api.get<HazardPage>("/hazards", { status: "open", limit: 200 })).items);
      const items = [...open.value].sort((a, b) => a.deadline.localeCompare(b.deadline));
      replace(
        page,
        h("a", { href: "#/rounds", class: "back" }, `← ${t("rounds.title")}`),
        h("h2", null, t("rounds.hazards")),
        status,
        open.fresh ? null : h("p", { class: "muted", "data-testid": "rounds-offline" }, t("rounds.offline", { time: formatDateTime(open.at, i18n.locale) })),
        items.length
          ? h(
              "ul",
              { class: "cards", "data-testid": "hazard-list" },
              items.map((hz) =>
                h(
                  "li",
                  null,
                  h(
                    "a",
                    { class: "card-link", href: `#/rounds/hazard/${hz.id}`, "data-hazard-id": hz.id },
                    h("strong", null, hazardName(hz)),
                    " ",
                    badge("severity", hz.severity),
                    " ",
                    badge("hazardStatus", hz.status),
                    h("span", { class: "muted block" }, `${t("rounds.deadline")}: ${formatDateTime(hz.deadline, i18n.locale)}`),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted empty" }, t("rounds.noHazards")),
      );
    } catch (err) {
      replace(page, h("a", { href: "#/rounds", class: "back" }, `← ${t("rounds.title")}`), h("h2", null, t("rounds.hazards")), status, h("p", { class: "muted empty" }, t("rounds.unavailable")));
      fail(err);
    }
  }

  async function show(id: number): Promise<void> {
    try {
      const hz = (await cached(`hazard.${id}`, () => api.get<HazardOut>(`/hazards/${id}`))).value;
      const note = h("textarea", { id: "rectify-note", rows: 3, maxlength: 2000 });
      const photo = h("input", { id: "rectify-photo", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment" });
      const error = h("p", { class: "form-error", role: "alert" });
      const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", id: "rectify-submit" }, t("rounds.rectify"));
      const form = h(
        "form",
        {
          class: "rectify-form",
          onsubmit: async (ev: Event) => {
            ev.preventDefault();
            const file = photo.files?.[0] ?? null;
            const problem = photoProblem(file);
            if (problem) {
              error.textContent = t(problem);
              return;
            }
            if (!note.value.trim() && !file) {
              error.textContent = t("rounds.evidenceNeeded");
              return;
            }
            submit.disabled = true;
            try {
              await phoneOutbox().add({ key: newKey("rect"), kind: "rectify", label: hazardName(hz), hazardId: hz.id, note: note.value, photo: file, photoName: file?.name });
              toast(navigator.onLine === false ? t("rounds.savedOffline") : t("rounds.saved"), "ok");
              location.hash = "#/rounds/hazards";
            } finally {
              submit.disabled = false;
            }
          },
        },
        field(t("rounds.rectifyNote"), note),
        field(t("rounds.evidencePhoto"), photo),
        error,
        submit,
      );
      replace(
        page,
        h("a", { href: "#/rounds/hazards", class: "back" }, `← ${t("rounds.hazards")}`),
        h("h2", null, t("rounds.order"), " #", String(hz.id)),
        status,
        section(
          hazardName(hz),
          dl([
            [t("rounds.severity"), badge("severity", hz.severity)],
            [t("fields.status"), badge("hazardStatus", hz.status)],
            [t("rounds.hazardDescription"), hz.description || null],
            [t("rounds.found"), formatDateTime(hz.found_at, i18n.locale)],
            [t("rounds.deadline"), formatDateTime(hz.deadline, i18n.locale)],
            [t("rounds.rectifiedAt"), hz.rectified_at ? formatDateTime(hz.rectified_at, i18n.locale) : null],
            [t("rounds.evidence"), hz.evidence_note || null],
          ]),
        ),
        section(
          t("rounds.history"),
          table(
            [t("fields.time"), t("fields.to"), t("fields.actor"), t("fields.cause")],
            (hz.transitions ?? []).map((tr) => [formatDateTime(tr.at, i18n.locale), label("hazardStatus", tr.to_status), tr.actor, tr.cause]),
          ),
        ),
        hz.status === "rectified" ? null : form,
      );
    } catch (err) {
      fail(err);
    }
  }

  return { list, show };
}
