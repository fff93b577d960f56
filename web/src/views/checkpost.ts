// Check post (查岗): ask every control room in the operator's jurisdiction (or one venue) to
// press its button, then show who answered and when. The ingest process holding each
// transmitter's connection sends the command; this panel only writes the request and reads
// the results (GET /device-commands?round_id=...) until every one is finished.

import { api, fail, i18n, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { formatTime } from "../time";
import { type DeviceCommand, summarise } from "../commands";
import { badge, busy, table } from "./common";
import type { CheckPostOut } from "../generated/api";

export function checkPostPanel(): { el: HTMLElement; stop: () => void } {
  const venue = h("input", { id: "checkpost-venue", name: "venue", placeholder: t("checkPost.venueHint"), "data-testid": "checkpost-venue" });
  const results = h("div", { "data-testid": "checkpost-results", "aria-live": "polite" });
  const summary = h("p", { class: "muted", "data-testid": "checkpost-summary" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let round: CheckPostOut | null = null;

  function render(items: DeviceCommand[]): void {
    const { counts, done } = summarise(items);
    replace(
      summary,
      t(done ? "checkPost.finished" : "checkPost.running", {
        answered: counts.answered ?? 0,
        total: items.length,
        window: round?.reply_window_s ?? 0,
      }),
    );
    replace(
      results,
      table(
        [t("checkPost.venue"), t("checkPost.status"), t("checkPost.operator"), t("checkPost.answeredAt"), t("checkPost.answeredIn")],
        items.map((c) => [
          c.venue_name ?? c.venue_code ?? c.device_code,
          badge("commandStatus", c.status),
          c.result?.operator_number ?? null,
          formatTime(c.answered_at, i18n.locale),
          c.result?.answered_in_s === undefined ? null : `${c.result.answered_in_s.toFixed(1)} s`,
        ]),
        { testid: "checkpost-table", empty: t("checkPost.none") },
      ),
    );
  }

  async function refresh(): Promise<void> {
    if (!round) return;
    try {
      const page = await api.get<{ items: DeviceCommand[] }>("/device-commands", { round_id: round.round_id, limit: 2000 });
      render(page.items);
      if (!summarise(page.items).done) timer = setTimeout(() => void refresh(), 2000);
    } catch (err) {
      fail(err);
    }
  }

  async function start(button: HTMLButtonElement): Promise<void> {
    const code = venue.value.trim();
    await busy(button, async () => {
      try {
        if (timer !== undefined) clearTimeout(timer);
        round = await api.post<CheckPostOut>("/device-commands/check-post", code ? { venue_code: code } : { all: true });
        toast(t("checkPost.started", { n: round.commands, venues: round.venues }), "ok");
        await refresh();
      } catch (err) {
        fail(err);
      }
    });
  }

  const button = h("button", { type: "button", class: "btn", "data-testid": "checkpost-start" }, t("checkPost.start"));
  button.addEventListener("click", () => void start(button));
  const el = h(
    "section",
    { class: "card checkpost", "aria-label": t("checkPost.title") },
    h("h3", null, t("checkPost.title")),
    h("div", { class: "field" }, h("label", { for: "checkpost-venue" }, t("checkPost.venueLabel")), venue),
    button,
    summary,
    results,
  );
  return { el, stop: () => timer !== undefined && clearTimeout(timer) };
}
