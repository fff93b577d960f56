// Grid worker (phone, 390 px): today's visits on a small map and in a list, red status and
// high risk first; the inspection form; the hazards with their rectification orders; the
// phone's outbox ("2 待同步") of submissions made offline.

import { categoryName, fail, i18n, label, t } from "../ctx";
import { h, replace } from "../dom";
import { CityMap } from "../map";
import type { QueueState, Submission } from "../outbox";
import { phoneOutbox } from "../roundsync";
import { formatDateTime, formatTime } from "../time";
import { badge } from "./common";
import { mountHazardPages } from "./hazardorder";
import { showVisitForm } from "./roundform";
import { dueList, visitedToday, type DueEntry } from "./roundsdata";

const COLOURS: Record<string, string> = { red: "#c62828", yellow: "#f9a825", green: "#2e7d32" };

/** "2 待同步" — the phone's queue, always in view on the grid worker's pages. */
export function outboxStatus(): { el: HTMLElement; off: () => void } {
  const text = h("span", { "data-testid": "outbox-status" });
  const sync = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "outbox-sync" }, t("rounds.syncNow"));
  sync.addEventListener("click", () => void phoneOutbox().flush(true));
  const el = h("p", { class: "outbox-status", role: "status" }, text, " ", sync);
  const off = phoneOutbox().onChange((s: QueueState) => {
    text.textContent = s.pending || s.failed ? [s.pending ? t("rounds.pending", { n: s.pending }) : "", s.failed ? t("rounds.failedN", { n: s.failed }) : ""].filter(Boolean).join(" · ") : t("rounds.synced");
    el.dataset.pending = String(s.pending);
    el.dataset.failed = String(s.failed);
    sync.hidden = s.pending === 0;
  });
  void phoneOutbox().refresh();
  return { el, off };
}

function entryCard(entry: DueEntry, visited: boolean): HTMLElement {
  const when =
    entry.status === "overdue"
      ? t("rounds.overdueDays", { n: entry.overdue_days })
      : entry.status === "due"
        ? t("rounds.dueToday")
        : `${label("visitStatus", entry.status)} · ${entry.due_on}`;
  return h(
    "li",
    null,
    h(
      "a",
      { class: `card-link visit-card colour-${entry.colour}`, href: `#/rounds/visit/${entry.venue_id}`, "data-venue-id": entry.venue_id },
      h("strong", null, entry.venue_name),
      " ",
      badge("colour", entry.colour),
      " ",
      entry.grade !== "none" ? badge("grade", entry.grade) : null,
      visited ? [" ", h("span", { class: "badge badge-visit-done" }, t("rounds.visited"))] : null,
      h("span", { class: "muted block" }, `${categoryName(entry.category)} · ${when}${entry.escalation ? " · " + t("rounds.escalated", { level: label("level", entry.escalation) }) : ""}`),
      entry.address ? h("span", { class: "muted block" }, entry.address) : null,
    ),
  );
}

function queueList(items: Submission[], onDiscard: (key: string) => void): HTMLElement | null {
  if (!items.length) return null;
  return h(
    "section",
    { class: "card", "data-testid": "outbox-list" },
    h("h3", null, t("rounds.queue")),
    h(
      "ul",
      { class: "cards" },
      items.map((item) =>
        h(
          "li",
          { class: "queue-item", "data-key": item.key },
          h("strong", null, item.label),
          h("span", { class: "muted block" }, `${label("submissionKind", item.kind)} · ${formatTime(item.createdAt, i18n.locale)}${item.attempts ? " · " + t("rounds.attempts", { n: item.attempts }) : ""}`),
          item.lastError ? h("span", { class: item.failed ? "form-error block" : "muted block" }, item.lastError) : null,
          item.failed ? h("button", { type: "button", class: "btn", onclick: () => onDiscard(item.key) }, t("rounds.discard")) : null,
        ),
      ),
    ),
  );
}

export function mountRounds(root: HTMLElement, rest: string[]): () => void {
  const status = outboxStatus();
  const page = h("div", { class: "phone-page", "data-testid": "rounds-page" });
  root.append(page);
  let map: CityMap | null = null;
  let entries: DueEntry[] = [];
  let offQueue: (() => void) | null = null;

  function dropMap(): void {
    map?.destroy();
    map = null;
  }

  async function showList(): Promise<void> {
    dropMap();
    offQueue?.();
    offQueue = null;
    const list = h("div", { "data-testid": "due-list-host" }, h("p", { class: "muted" }, t("rounds.loading")));
    const queueHost = h("div", null);
    const mapEl = h("div", { class: "map map-small", id: "rounds-map", "data-testid": "rounds-map", role: "region", "aria-label": t("rounds.map") });
    replace(
      page,
      h("h2", null, t("rounds.title")),
      status.el,
      h("p", { class: "row" }, h("a", { href: "#/rounds/hazards", class: "btn" }, t("rounds.hazards"))),
      mapEl,
      list,
      queueHost,
    );
    map = new CityMap(mapEl, { view: "rounds", venues: false, hydrants: false, compact: true });
    const paintQueue = async () => {
      const items = await phoneOutbox().items();
      replace(queueHost, queueList(items, (key) => void phoneOutbox().discard(key)));
    };
    offQueue = phoneOutbox().onChange(() => void paintQueue());
    try {
      const due = await dueList();
      entries = due.value;
      const visited = visitedToday();
      replace(
        list,
        due.fresh ? null : h("p", { class: "muted", "data-testid": "rounds-offline" }, t("rounds.offline", { time: formatDateTime(due.at, i18n.locale) })),
        entries.length
          ? h("ul", { class: "cards", "data-testid": "due-list", "aria-label": t("rounds.title") }, entries.map((e) => entryCard(e, visited.has(e.venue_id))))
          : h("p", { class: "muted empty" }, t("rounds.none")),
      );
      const current = map;
      if (!current) return;
      current.clearOverlay();
      for (const e of entries) {
        if (e.lon === null || e.lat === null) continue;
        current.marker(e.lon, e.lat, {
          colour: COLOURS[e.colour] ?? "#546e7a",
          radius: e.status === "overdue" ? 8 : 6,
          tooltip: e.venue_name,
          onClick: () => (location.hash = `#/rounds/visit/${e.venue_id}`),
        });
      }
      current.fitOverlay();
    } catch (err) {
      replace(list, h("p", { class: "muted empty" }, t("rounds.none")));
      fail(err);
    }
  }

  async function showVisit(venueId: number): Promise<void> {
    dropMap();
    if (!entries.length) {
      try {
        entries = (await dueList()).value;
      } catch (err) {
        fail(err);
      }
    }
    const entry = entries.find((e) => e.venue_id === venueId);
    await showVisitForm(page, status.el, venueId, entry ?? null);
  }

  const hazards = mountHazardPages(page, status.el);

  let current: string[] = rest;
  function route(r: string[]): void {
    current = r;
    if (r[0] === "visit" && r[1]) void showVisit(Number(r[1]));
    else if (r[0] === "hazards") {
      dropMap();
      void hazards.list();
    } else if (r[0] === "hazard" && r[1]) {
      dropMap();
      void hazards.show(Number(r[1]));
    } else void showList();
  }

  const onSub = (ev: Event) => route((ev as CustomEvent<string[]>).detail);
  window.addEventListener("firegrid:subroute", onSub);
  // A list shown from the phone's copy, or with submissions just synced, is read again
  // (a form being filled in is never redrawn).
  const onList = () => current[0] !== "visit" && current[0] !== "hazard";
  let lastPending = 0;
  const offSynced = phoneOutbox().onChange((s) => {
    if (lastPending > 0 && s.pending === 0 && onList()) route(current);
    lastPending = s.pending;
  });
  const onOnline = () => {
    if (onList()) route(current);
  };
  window.addEventListener("online", onOnline);
  route(rest);
  void phoneOutbox().flush(true);
  return () => {
    window.removeEventListener("firegrid:subroute", onSub);
    window.removeEventListener("online", onOnline);
    offSynced();
    offQueue?.();
    status.off();
    dropMap();
  };
}
