// Command centre: take a 119 call (address search or map pick), see duplicates, open an
// incident, send the recommended units in one action, follow the timeline and the units.

import { alerts, api, can, categoryName, fail, i18n, label, live, offers, t, toast } from "../ctx";
import { debounce, h, replace, restoreFields, snapshotFields } from "../dom";
import { fieldText } from "../servertext";
import type { LiveEvent } from "../live";
import { CityMap } from "../map";
import { formatDateTime, formatTime } from "../time";
import { badge, busy, dl, duration, field, km, section, select, table } from "./common";
import { IncidentTypeValues } from "../generated/enums";
import { link110Status } from "./link110";
import { incidentExtras, moveStatus, placeTypeahead } from "./intake_extras";
import { refuse } from "./admin_common";
import { aidInbox, commandSection } from "./incident_command";
import { shortcutHelp } from "./shortcut_help";
import { resolveShortcut, stepIncident } from "../shortcuts";
import type { Counted_UnitOut_, DispatchOut, GeocodeOut, IncidentDetail, IncidentOut, IncidentPage, IntakeOut, RecommendationOut, UnitOut } from "../generated/api";

const INCIDENT_NEXT = ["on_scene", "under_control", "extinguished", "closed"];
/** The statuses an incident may move to (src/firegrid/dispatch/states.py INCIDENT_TRANSITIONS). */
const INCIDENT_ALLOWED: Record<string, string[]> = {
  created: ["closed"],
  dispatched: ["on_scene", "closed"],
  on_scene: ["under_control", "extinguished", "closed"],
  under_control: ["extinguished", "closed"],
  extinguished: ["closed"],
  closed: [],
};

// IntakeOut.venues_nearby is `list[dict[str, Any]]` on the server (dispatch/intake.py
// venues_near: venues with buildings and device states): narrowed to what the call taker sees.
type Intake = Omit<IntakeOut, "venues_nearby"> & { venues_nearby: { name: string; distance_m?: number }[] };

export function mountDispatch(root: HTMLElement, rest: string[]): () => void {
  let current: number | null = rest[0] === "incident" ? Number(rest[1]) : null;
  let shown: number | null = null; // the incident the detail pane shows
  let units: UnitOut[] = [];
  let point: { lon: number; lat: number } | null = null;
  let centred: number | null = null;
  /** The unit the status keys 1–6 move (picked on the unit board). */
  let selectedUnit: number | null = null;
  const inbox = aidInbox();
  const help = shortcutHelp();
  const helpBtn = h("button", { type: "button", class: "btn btn-small", "data-testid": "shortcut-button", "aria-keyshortcuts": "?", title: t("shortcuts.title") }, t("shortcuts.button"));
  helpBtn.addEventListener("click", () => help.open());
  const loc = () => i18n.locale;

  // Call form ---------------------------------------------------------------------------
  const caller = h("input", { id: "call-number", inputmode: "tel", autocomplete: "off" });
  const address = h("input", { id: "call-address", autocomplete: "off" });
  const geocodeOut = h("div", { class: "geocode-out", "data-testid": "geocode-result", "aria-live": "polite" });
  const pointOut = h("output", { id: "call-point", class: "muted" }, t("dispatch.noPoint"));
  const type = select("call-type", IncidentTypeValues.map((x) => [x, label("incidentType", x)]), "building_fire");
  const level = select("call-level", [1, 2, 3, 4, 5].map((n) => [String(n), t("dispatch.levelN", { n })]), "1");
  const description = h("textarea", { id: "call-description", rows: 2 });
  const intakeOut = h("div", { class: "intake-out", "data-testid": "intake-result", "aria-live": "polite" });
  const searchBtn = h("button", { type: "button", class: "btn", id: "geocode-search" }, t("dispatch.search"));
  const pickBtn = h("button", { type: "button", class: "btn", id: "map-pick" }, t("dispatch.pickOnMap"));
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "call-submit" }, t("dispatch.takeCall"));

  const mapEl = h("div", { class: "map", id: "dispatch-map", "data-testid": "map" });
  const incidentList = h("ul", { class: "incident-list", "data-testid": "incident-list" });
  const detail = h("div", { "data-testid": "incident-detail" }, h("p", { class: "muted" }, t("dispatch.pickIncident")));
  const board = h("div", { "data-testid": "unit-board" });
  const banner = h("div", { class: "fire-banner", role: "alert", "data-testid": "incident-banner", hidden: true });

  const consumeBtn =
    offers("alarm_forwards") && can("incidents:write")
      ? h("button", { type: "button", class: "btn btn-small", id: "consume-forwards", title: t("dispatch.consumeHint") }, t("dispatch.consume"))
      : null;
  consumeBtn?.addEventListener("click", () =>
    void busy(consumeBtn, async () => {
      try {
        const r = await api.post<Record<string, unknown>>("/alarm-forwards/consume");
        const created = Number(r.created ?? r.incidents ?? 0);
        toast(t("dispatch.consumed", { n: Number.isFinite(created) ? created : 0 }), "ok");
        await loadIncidents();
      } catch (err) {
        fail(err);
      }
    }),
  );

  const form = h(
    "form",
    {
      class: "call-form",
      "aria-labelledby": "call-title",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        await busy(submit, takeCall);
      },
    },
    h("h2", { id: "call-title" }, t("dispatch.newCall")),
    field(t("fields.callerNumber"), caller),
    field(t("fields.address"), address),
    placeTypeahead(address, (hit) => setPoint(hit.lon, hit.lat, t("intake.fromPlace"))),
    h("div", { class: "row" }, searchBtn, pickBtn, pointOut),
    geocodeOut,
    h("div", { class: "row" }, field(t("fields.incidentType"), type), field(t("fields.level"), level)),
    field(t("fields.description"), description),
    submit,
    intakeOut,
  );

  const tabs = h("div", { class: "tabs", role: "tablist" });
  const tabIncident = h("button", { type: "button", role: "tab", id: "tab-incident", class: "tab", "aria-selected": "true", "aria-controls": "panel-incident" }, t("dispatch.incident"));
  const tabUnits = h("button", { type: "button", role: "tab", id: "tab-units", class: "tab", "aria-selected": "false", "aria-controls": "panel-units" }, t("dispatch.unitBoard"));
  const panelIncident = h("div", { role: "tabpanel", id: "panel-incident", "aria-labelledby": "tab-incident" }, detail);
  const panelUnits = h("div", { role: "tabpanel", id: "panel-units", "aria-labelledby": "tab-units", hidden: true }, board);
  const showTab = (which: "incident" | "units") => {
    tabIncident.setAttribute("aria-selected", String(which === "incident"));
    tabUnits.setAttribute("aria-selected", String(which === "units"));
    panelIncident.hidden = which !== "incident";
    panelUnits.hidden = which !== "units";
  };
  tabIncident.addEventListener("click", () => showTab("incident"));
  tabUnits.addEventListener("click", () => {
    showTab("units");
    void loadUnits();
  });
  tabs.append(tabIncident, tabUnits);

  root.append(
    h(
      "div",
      { class: "layout-3" },
      h("aside", { class: "panel list" }, form, inbox.el, h("div", { class: "panel-head" }, h("h2", null, t("dispatch.incidents")), h("div", { class: "row" }, helpBtn, consumeBtn)), incidentList),
      h("div", { class: "map-col" }, banner, mapEl),
      h("aside", { class: "panel detail", "aria-label": t("dispatch.incident") }, tabs, panelIncident, panelUnits),
    ),
  );
  root.append(help.el);
  const map = new CityMap(mapEl, { view: "dispatch" });

  function setPoint(lon: number, lat: number, source: string): void {
    point = { lon, lat };
    pointOut.textContent = `${source} ${lon.toFixed(5)}, ${lat.toFixed(5)}`;
    pointOut.dataset.set = "true";
    drawOverlay();
    map.flyTo(lon, lat, 14);
  }

  searchBtn.addEventListener("click", () =>
    void busy(searchBtn, async () => {
      const q = address.value.trim();
      if (!q) return;
      try {
        const r = await api.get<GeocodeOut>("/geocode", { q });
        if (r.matched && r.lon !== null && r.lat !== null) {
          replace(geocodeOut, h("p", { class: "ok" }, `${t("dispatch.matched")}: ${r.full_text} (${Math.round(r.score * 100)}%)`));
          setPoint(r.lon, r.lat, t("dispatch.fromAddress"));
        } else {
          replace(
            geocodeOut,
            h("p", { class: "warn" }, t("dispatch.noMatch"), r.reason ? ` (${fieldText(t, r, "reason")})` : ""),
            r.alternatives.length
              ? h(
                  "ul",
                  { class: "alt-list" },
                  r.alternatives.map((alt) =>
                    h("li", null, h("button", { type: "button", class: "btn btn-link", "data-address-code": alt.code, onclick: () => { address.value = alt.full_text; setPoint(alt.lon, alt.lat, t("dispatch.fromAddress")); } }, `${alt.full_text} (${Math.round(alt.score * 100)}%)`)),
                  ),
                )
              : null,
          );
        }
      } catch (err) {
        fail(err);
      }
    }),
  );
  pickBtn.addEventListener("click", () => {
    toast(t("dispatch.pickHint"));
    map.pick((lon, lat) => setPoint(lon, lat, t("dispatch.fromMap")));
  });

  async function takeCall(): Promise<void> {
    try {
      const body = {
        caller_number: caller.value.trim(),
        address_text: address.value.trim(),
        lon: point?.lon ?? null,
        lat: point?.lat ?? null,
        incident_type: type.value,
        level: Number(level.value),
        description: description.value.trim(),
      };
      const r = await api.post<Intake>("/calls", body);
      toast(t("dispatch.callTaken", { id: r.call.id }), "ok");
      const open = h("button", { type: "button", class: "btn btn-primary", "data-action": "open-incident" }, t("dispatch.openIncident"));
      open.addEventListener("click", () =>
        void busy(open, async () => {
          try {
            const inc = await api.post<IncidentDetail>(`/calls/${r.call.id}/incident`, { incident_type: type.value, level: Number(level.value) });
            replace(intakeOut);
            await loadIncidents();
            location.hash = `#/dispatch/incident/${inc.id}`;
          } catch (err) {
            fail(err);
          }
        }),
      );
      replace(
        intakeOut,
        r.possible_duplicates.length
          ? section(
              t("dispatch.duplicates"),
              h(
                "ul",
                { class: "dup-list", "data-testid": "duplicates" },
                r.possible_duplicates.map((d) =>
                  h(
                    "li",
                    null,
                    `#${d.incident_id} ${label("incidentType", d.incident_type)} · ${d.address || ""} · ${km(d.distance_m)} `,
                    h("button", { type: "button", class: "btn btn-small", onclick: async () => {
                      try {
                        await api.post(`/calls/${r.call.id}/merge`, { incident_id: d.incident_id });
                        toast(t("dispatch.merged"), "ok");
                        replace(intakeOut);
                        location.hash = `#/dispatch/incident/${d.incident_id}`;
                      } catch (err) {
                        fail(err);
                      }
                    } }, t("dispatch.merge")),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, t("dispatch.noDuplicates")),
        r.venues_nearby?.length ? h("p", { class: "muted" }, `${t("dispatch.venuesNearby")}: ${r.venues_nearby.slice(0, 3).map((v) => v.name).join("、")}`) : null,
        r.incident_id === null ? open : null,
      );
    } catch (err) {
      fail(err);
    }
  }

  // Incidents ---------------------------------------------------------------------------
  let incidents: IncidentOut[] = [];
  async function loadIncidents(): Promise<void> {
    try {
      const page = await api.get<IncidentPage>("/incidents", { open_only: true, limit: 100 });
      incidents = page.items;
      replace(
        incidentList,
        incidents.length
          ? incidents.map((i) =>
              h(
                "li",
                null,
                h(
                  "button",
                  { type: "button", class: `incident-item${i.id === current ? " selected" : ""}`, "data-incident-id": i.id, "aria-pressed": String(i.id === current), onclick: () => (location.hash = `#/dispatch/incident/${i.id}`) },
                  h("span", { class: "alarm-kind" }, `#${i.id} ${label("incidentType", i.incident_type)}`),
                  h("span", { class: "alarm-venue" }, i.address || "—"),
                  h("span", { class: "alarm-meta" }, badge("incidentStatus", i.status), " ", formatTime(i.call_received_at, loc())),
                ),
              ),
            )
          : h("li", { class: "muted empty" }, t("dispatch.noIncidents")),
      );
      drawOverlay();
    } catch (err) {
      fail(err);
    }
  }

  function unitPosition(u: UnitOut): [number, number] | null {
    if (u.last_lon !== null && u.last_lat !== null) return [u.last_lon, u.last_lat];
    const s = map.stationsById.get(u.station_id);
    return s ? [s.lon, s.lat] : null;
  }

  function drawOverlay(): void {
    map.clearOverlay();
    for (const u of units) {
      if (u.status === "available_in_station") continue;
      const p = unitPosition(u);
      if (p) map.unitMarker(p[0], p[1], u.status, `${u.call_sign} · ${label("unitStatus", u.status)}`);
    }
    for (const i of incidents) {
      map.marker(i.lon, i.lat, { colour: "#b71c1c", radius: i.id === current ? 10 : 7, pulse: i.id === current, tooltip: `#${i.id} ${label("incidentType", i.incident_type)}`, onClick: () => (location.hash = `#/dispatch/incident/${i.id}`) });
    }
    if (point) map.marker(point.lon, point.lat, { colour: "#0d47a1", radius: 7, tooltip: t("dispatch.callPoint") });
  }

  async function loadUnits(): Promise<void> {
    try {
      const page = await api.get<Counted_UnitOut_>("/units");
      units = page.items;
      const canMove = can("units:status");
      replace(
        board,
        table(
          [t("fields.unit"), t("fields.station"), t("fields.vehicleType"), t("fields.status"), t("fields.incident"), ...(canMove ? [t("fields.action")] : [])],
          units.map((u) => [
            h("button", { type: "button", class: "btn btn-small unit-pick", "data-unit-id": u.id, "aria-pressed": String(u.id === selectedUnit), title: t("shortcuts.pickUnit"), onclick: () => pickUnit(u.id) }, u.call_sign),
            u.station_code,
            label("vehicleType", u.vehicle_type),
            badge("unitStatus", u.status),
            u.incident_id ? `#${u.incident_id}` : "",
            ...(canMove ? [statusMenu(u)] : []),
          ]),
          { testid: "units-table" },
        ),
      );
      drawOverlay();
    } catch (err) {
      fail(err);
    }
  }

  function pickUnit(id: number): void {
    selectedUnit = selectedUnit === id ? null : id;
    for (const b of board.querySelectorAll<HTMLElement>(".unit-pick")) b.setAttribute("aria-pressed", String(Number(b.dataset.unitId) === selectedUnit));
  }

  async function moveUnit(u: UnitOut, status: string): Promise<void> {
    try {
      await api.post(`/units/${u.id}/status`, { status });
      toast(t("dispatch.unitMoved", { unit: u.call_sign }), "ok");
      await loadUnits();
    } catch (err) {
      refuse(err, "unitStatus");
      await loadUnits();
    }
  }

  function statusMenu(u: UnitOut): HTMLElement {
    const options = ["available_in_station", "available_on_radio", "en_route", "on_scene", "returning", "out_of_service"];
    const s = select(`unit-${u.id}-status`, options.map((o) => [o, label("unitStatus", o)]), u.status, { "aria-label": `${u.call_sign} ${t("fields.status")}` });
    s.addEventListener("change", () => void moveUnit(u, s.value));
    return s;
  }

  /** Show incident `id`; `live`: a refresh pushed by the channel (keep the open tab);
   * `keepFields`: what the dispatcher typed into this incident's forms survives the
   * re-render (only when the pane already shows this incident). */
  async function showIncident(id: number, live = false, keepFields = live): Promise<void> {
    current = id;
    if (!live) showTab("incident");
    try {
      const inc = await api.get<IncidentDetail>(`/incidents/${id}`);
      // a closed incident offers no dispatch and no status move (the API would refuse them)
      const closed = inc.status === "closed";
      let rec: RecommendationOut | null = null;
      if (!closed) {
        try {
          rec = await api.get<RecommendationOut>(`/incidents/${id}/recommendation`);
        } catch {
          rec = null;
        }
      }
      if (current !== id) return;
      if (centred !== id) {
        centred = id;
        map.flyTo(inc.lon, inc.lat, 13);
      }
      const unitName = new Map(units.map((u) => [u.id, u.call_sign]));
      // a closed incident offers no dispatch and no status change (the server would refuse them)
      const sendBtn = h("button", { type: "button", class: "btn btn-danger", "data-action": "dispatch", hidden: inc.status === "closed", disabled: !rec || !rec.units.length || !can("incidents:dispatch") }, t("dispatch.dispatchRecommended"));
      sendBtn.addEventListener("click", () =>
        void busy(sendBtn, async () => {
          try {
            const r = await api.post<DispatchOut>(`/incidents/${id}/dispatch`, {});
            toast(t("dispatch.dispatched", { n: r.assignments.length }), "ok");
            await Promise.all([loadUnits(), loadIncidents()]);
            await showIncident(id);
          } catch (err) {
            refuse(err, "dispatch");
          }
        }),
      );
      const statusButtons = can("incidents:write") && !closed
        ? h(
            "div",
            { class: "actions" },
            INCIDENT_NEXT.filter((s) => (INCIDENT_ALLOWED[inc.status] ?? INCIDENT_NEXT).includes(s)).map((s) => {
              const b = h("button", { type: "button", class: "btn", "data-action": `status-${s}` }, label("incidentStatus", s));
              b.addEventListener("click", () =>
                void busy(b, async () => {
                  try {
                    await moveStatus(id, s);
                    await loadIncidents();
                    await showIncident(id);
                  } catch (err) {
                    refuse(err, "status");
                  }
                }),
              );
              return b;
            }),
          )
        : null;
      // a pushed refresh keeps what the dispatcher is typing (a cause, a note, a reason)
      const typed = keepFields && current === id && shown === id ? snapshotFields(detail) : null;
      replace(
        detail,
        h("div", { class: "detail-head" }, h("h2", { id: "incident-title" }, `#${inc.id} ${label("incidentType", inc.incident_type)}`), badge("incidentStatus", inc.status, "big")),
        dl([
          [t("fields.address"), inc.address],
          [t("fields.level"), t("dispatch.levelN", { n: inc.level })],
          [t("fields.category"), inc.venue_category ? categoryName(inc.venue_category) : null],
          [t("fields.received"), formatDateTime(inc.call_received_at, loc())],
          [t("fields.calls"), String(inc.call_count)],
          [t("fields.description"), inc.description],
        ]),
        inc.possibly_related?.length
          ? section(
              t("dispatch.possiblyRelated"),
              h("p", { class: "muted" }, t("dispatch.possiblyRelatedHint")),
              table(
                [t("fields.incident"), t("fields.status"), t("fields.distance")],
                inc.possibly_related.map((r) => [
                  h("a", { href: `#/dispatch/incident/${r.incident_id}` }, `#${r.incident_id} ${label("incidentType", r.incident_type)}`),
                  badge("incidentStatus", r.status),
                  r.distance_m == null ? "" : `${Math.round(r.distance_m)} m`,
                ]),
                { testid: "possibly-related" },
              ),
            )
          : null,
        closed
          ? h("p", { class: "closed-note", "data-testid": "incident-closed" }, t("command.closedNoDispatch"))
          : section(
          t("dispatch.recommended"),
          rec
            ? table(
                [t("fields.unit"), t("fields.vehicleType"), t("fields.station"), t("fields.eta")],
                rec.units.map((u) => [u.call_sign, label("vehicleType", u.vehicle_type), map.stationsById.get(u.station_id)?.name ?? `#${u.station_id}`, duration(u.eta_s)]),
                { testid: "recommendation", empty: t("dispatch.planMet"), rowAttrs: (i) => ({ title: rec?.units[i]?.reason ?? "" }) },
              )
            : h("p", { class: "muted" }, t("dispatch.noRecommendation")),
          rec && rec.missing.length ? h("p", { class: "warn" }, `${t("dispatch.missing")}: ${rec.missing.map((m) => JSON.stringify(m)).join("; ")}`) : null,
          sendBtn,
        ),
        section(
          t("dispatch.assigned"),
          table(
            [t("fields.unit"), t("fields.status"), t("fields.eta"), t("fields.dispatchedAt")],
            inc.units.map((a) => [unitName.get(a.vehicle_id) ?? `#${a.vehicle_id}`, label("assignmentStatus", a.status), duration(a.eta_s), formatTime(a.dispatched_at, loc())]),
            { testid: "assigned-units" },
          ),
          statusButtons,
        ),
        commandSection(inc, () => showIncident(id, true, false)),
        can("incidents:read") ? link110Status(inc.id) : null,
        section(
          t("dispatch.timeline"),
          table(
            [t("fields.time"), t("fields.event"), t("fields.actor"), t("fields.cause")],
            inc.timeline.map((e) => [formatDateTime(e.at, loc()), label("timeline", e.kind), e.actor, [fieldText(t, e, "cause"), e.vehicle_id ? unitName.get(e.vehicle_id) ?? `#${e.vehicle_id}` : ""].filter(Boolean).join(" · ")]),
            { testid: "timeline" },
          ),
        ),
        ...incidentExtras(id, inc.status, () => showIncident(id)),
      );
      shown = id;
      if (typed) restoreFields(detail, typed);
      drawOverlay();
      // on a phone the detail sits below the list and the map: bring an opened incident on screen
      if (!live && window.matchMedia("(max-width: 760px)").matches) detail.scrollIntoView({ block: "start" });
    } catch (err) {
      fail(err);
    }
  }

  const onSub = (ev: Event) => {
    const r = (ev as CustomEvent<string[]>).detail;
    if (r[0] === "incident" && r[1]) void showIncident(Number(r[1]), false, true);
  };
  window.addEventListener("firegrid:subroute", onSub);
  void map.loaded.then(async () => {
    await Promise.all([loadIncidents(), loadUnits()]);
    // the map's stations name the units: draw the open incident again; the dispatcher may
    // have started typing into its forms while the map loaded
    if (current !== null) await showIncident(current, false, true);
  });
  // Live: pushed incidents and unit statuses; a forwarded fire is announced at once. -----
  const refreshIncidents = debounce(() => void loadIncidents(), 150);
  const refreshUnits = debounce(() => void loadUnits(), 150);
  const refreshCurrent = debounce(() => {
    if (current !== null) void showIncident(current, true);
  }, 150);

  function announce(ev: LiveEvent): void {
    const id = Number(ev.incident_id);
    const key = `incident:${id}`;
    const text = `#${id} ${label("incidentType", String(ev.incident_type ?? ""))} · ${String(ev.address ?? "")}`;
    alerts.raise({ key, title: t("dispatch.forwardedFire"), body: text });
    banner.hidden = false;
    banner.dataset.incidentId = String(id);
    banner.dataset.receivedAt = String(Date.now());
    replace(
      banner,
      h("strong", null, t("dispatch.forwardedFire")),
      " ",
      text,
      " ",
      h("button", { type: "button", class: "btn btn-light", "data-testid": "incident-banner-open", onclick: () => { banner.hidden = true; alerts.ack(key); location.hash = `#/dispatch/incident/${id}`; } }, t("monitor.open")),
      h("button", { type: "button", class: "btn btn-ghost", "data-testid": "incident-banner-ack", "aria-label": t("alerts.ack"), onclick: () => { banner.hidden = true; alerts.ack(key); } }, "×"),
    );
    document.body.classList.add("flash");
    setTimeout(() => document.body.classList.remove("flash"), 2500);
  }

  const refreshInbox = debounce(() => void inbox.reload(), 150);
  const offEvents = live.subscribe((ev: LiveEvent) => {
    if (ev.type.startsWith("incident.")) {
      refreshIncidents();
      refreshInbox();
      if (ev.type === "incident.new" && ev.source === "alarm") announce(ev);
      if (Number(ev.incident_id) === current) refreshCurrent();
    } else if (ev.type === "unit.status") {
      refreshUnits();
      if (current !== null && Number(ev.incident_id) === current) refreshCurrent();
    }
  });
  const offResync = live.onResync(() => {
    refreshInbox();
    refreshIncidents();
    refreshUnits();
    refreshCurrent();
  });
  // A slow safety net only: the channel pushes every change.
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") void loadIncidents();
  }, 60000);

  // Keyboard shortcuts (documented in the "?" overlay); never while typing in a field.
  const onKey = (ev: KeyboardEvent) => {
    const hit = resolveShortcut(ev);
    if (!hit) return;
    if (hit.action === "close") {
      if (help.isOpen()) {
        ev.preventDefault();
        help.close();
      }
      return;
    }
    if (help.isOpen() && hit.action !== "help") return;
    ev.preventDefault();
    switch (hit.action) {
      case "help":
        help.toggle();
        break;
      case "newCall":
        showTab("incident");
        caller.scrollIntoView({ block: "nearest" });
        caller.focus();
        break;
      case "dispatchRecommended": {
        const send = detail.querySelector<HTMLButtonElement>("[data-action=dispatch]");
        if (send && !send.disabled) send.click();
        else toast(t("shortcuts.nothingToDispatch"));
        break;
      }
      case "nextIncident":
      case "previousIncident": {
        const next = stepIncident(incidents.map((i) => i.id), current, hit.action === "nextIncident" ? 1 : -1);
        if (next !== null) location.hash = `#/dispatch/incident/${next}`;
        break;
      }
      case "unitStatus": {
        const unit = units.find((u) => u.id === selectedUnit);
        if (!unit || !hit.status) toast(t("shortcuts.pickUnitFirst"));
        else if (can("units:status")) void moveUnit(unit, hit.status);
        break;
      }
    }
  };
  document.addEventListener("keydown", onKey);
  void inbox.reload();

  return () => {
    document.removeEventListener("keydown", onKey);
    help.el.remove();
    offEvents();
    offResync();
    clearInterval(timer);
    window.removeEventListener("firegrid:subroute", onSub);
    map.destroy();
  };
}
