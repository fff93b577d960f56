// The 110 link: the fire remote seat at the 110 centre (all current 119 incidents of its
// districts, live, with timeline and units; the 119 calls with monitor / barge-in / release
// requests to the switch; transfer a fire call to 119) and the link's health per 110 centre.
// The dispatch view reuses `link110Status` for "transfer to 110" and the 110 status.

import { api, can, fail, i18n, label, live, t, toast } from "../ctx";
import { debounce, h, replace } from "../dom";
import type { LiveEvent } from "../live";
import { formatDateTime, formatTime } from "../time";
import { badge, busy, dl, field, section, select, table } from "./common";
import type { firegrid__dispatch__incident_schemas__TransferOut as TransferOut, IncidentDetail, IncidentLinkOut, IncidentPage, LinkStatusOut, PeerHealthOut, SwitchCallList, SwitchCallOut } from "../generated/api";

const TYPES = ["building_fire", "hazmat_fire", "vehicle_fire", "outdoor_fire", "wildland", "hazmat", "rescue", "flood", "social_assistance"];
const loc = () => i18n.locale;

/** The 110 status of an incident and, for a dispatcher, "transfer to 110". */
export function link110Status(incidentId: number): HTMLElement {
  const box = h("div", { "data-testid": "link110-status" }, h("p", { class: "muted" }, t("link110.loading")));
  async function load(): Promise<void> {
    try {
      const s = await api.get<IncidentLinkOut>(`/link110/incidents/${incidentId}`);
      const transfer = h("button", { type: "button", class: "btn", "data-testid": "link110-transfer" }, t("link110.transferTo110"));
      transfer.addEventListener("click", () =>
        void busy(transfer, async () => {
          try {
            await api.post(`/link110/incidents/${incidentId}/transfer`, { reason: "" });
            toast(t("link110.transferQueued"), "ok");
            await load();
          } catch (err) {
            fail(err);
          }
        }),
      );
      replace(
        box,
        dl([
          [t("link110.centre"), s.peer_name ?? t("link110.noCentre")],
          [t("link110.delivered"), t("link110.deliveredN", { acked: s.acked, pending: s.pending })],
          [t("link110.lastAck"), s.last_ack_at ? formatDateTime(s.last_ack_at, loc()) : null],
          [t("link110.transfer"), s.transfer ? label("linkMessage", s.transfer.status) : null],
        ]),
        can("incidents:dispatch") && s.peer && !s.transfer ? transfer : null,
      );
    } catch (err) {
      replace(box, h("p", { class: "muted" }, t("link110.unavailable")));
      fail(err);
    }
  }
  void load();
  return section(t("link110.statusTitle"), box);
}

function healthTable(peers: PeerHealthOut[]): HTMLElement {
  return table(
    [t("link110.centre"), t("link110.backlog"), t("link110.lastAck"), t("link110.retries"), t("link110.failures"), t("link110.dead"), t("link110.p99"), t("link110.alert")],
    peers.map((p) => [
      p.name,
      String(p.backlog),
      p.last_ack_at ? formatTime(p.last_ack_at, loc()) : null,
      String(p.retries),
      String(p.failures),
      String(p.dead_letters),
      p.p99_round_trip_ms == null ? null : `${p.p99_round_trip_ms.toFixed(0)} ms`,
      p.alert ? h("span", { class: "warn", title: p.alert.cause }, t("link110.alertRaised")) : t("link110.ok"),
    ]),
    { testid: "link110-health" },
  );
}

export function mountLink110(main: HTMLElement, rest: string[]): () => void {
  let current: number | null = rest[0] === "incident" ? Number(rest[1]) : null;
  const list = h("div", { "data-testid": "link110-incidents" });
  const detail = h("div", { "data-testid": "link110-detail" }, h("p", { class: "muted" }, t("link110.pick")));
  const calls = h("div", { "data-testid": "link110-calls" });
  const health = h("div", { "data-testid": "link110-health-box" });

  async function loadIncidents(): Promise<void> {
    try {
      const page = await api.get<IncidentPage>("/incidents", { open_only: true, limit: 200 });
      replace(
        list,
        table(
          [t("fields.incident"), t("fields.status"), t("fields.address"), t("fields.received")],
          page.items.map((i) => [
            h("a", { href: `#/link110/incident/${i.id}` }, `#${i.id} ${label("incidentType", i.incident_type)}`),
            badge("incidentStatus", i.status),
            i.address,
            formatTime(i.call_received_at, loc()),
          ]),
          { testid: "link110-incident-table", empty: t("link110.noIncidents") },
        ),
      );
    } catch (err) {
      fail(err);
    }
  }

  async function showIncident(id: number): Promise<void> {
    current = id;
    try {
      const inc = await api.get<IncidentDetail>(`/incidents/${id}`);
      replace(
        detail,
        h("div", { class: "detail-head" }, h("h2", null, `#${inc.id} ${label("incidentType", inc.incident_type)}`), badge("incidentStatus", inc.status, "big")),
        dl([
          [t("fields.address"), inc.address],
          [t("fields.level"), String(inc.level)],
          [t("fields.received"), formatDateTime(inc.call_received_at, loc())],
        ]),
        section(
          t("dispatch.assigned"),
          table(
            [t("fields.unit"), t("fields.status"), t("fields.dispatchedAt")],
            inc.units.map((u) => [`#${u.vehicle_id}`, label("assignmentStatus", u.status), formatTime(u.dispatched_at, loc())]),
          ),
        ),
        section(
          t("dispatch.timeline"),
          table(
            [t("fields.time"), t("fields.event"), t("fields.cause")],
            inc.timeline.map((e) => [formatDateTime(e.at, loc()), label("timeline", e.kind), e.cause]),
          ),
        ),
      );
    } catch (err) {
      fail(err);
    }
  }

  async function loadCalls(): Promise<void> {
    try {
      const page = await api.get<SwitchCallList>("/telephony/calls");
      const action = (call: SwitchCallOut, kind: string): HTMLElement => {
        const b = h("button", { type: "button", class: "btn btn-light", "data-testid": `call-${kind}-${call.id}` }, t(`link110.request.${kind}`));
        b.addEventListener("click", () =>
          void busy(b, async () => {
            try {
              await api.post(`/telephony/calls/${call.id}/requests`, { kind });
              toast(t("link110.requestSent"), "ok");
            } catch (err) {
              fail(err);
            }
          }),
        );
        return b;
      };
      replace(
        calls,
        table(
          [t("link110.caller"), t("link110.trunk"), t("fields.status"), t("fields.time"), ""],
          page.items.map((c) => [
            c.caller_number,
            c.trunk,
            label("callState", c.state),
            formatTime(c.offered_at, loc()),
            can("incidents:110") ? h("span", null, action(c, "monitor"), action(c, "barge_in"), action(c, "release")) : null,
          ]),
          { testid: "link110-call-table", empty: t("link110.noCalls") },
        ),
      );
    } catch (err) {
      fail(err);
    }
  }

  async function loadHealth(): Promise<void> {
    if (!can("links:read")) return;
    try {
      const s = await api.get<LinkStatusOut>("/link110/status");
      replace(health, healthTable(s.peers));
    } catch (err) {
      fail(err);
    }
  }

  // Transfer a fire call that reached 110 to 119 (plain JSON: POST /transfers/110).
  const ref = h("input", { id: "l110-ref", name: "external_ref", required: true, maxlength: 64 });
  const address = h("input", { id: "l110-address", name: "address_text", maxlength: 300 });
  const lon = h("input", { id: "l110-lon", name: "lon", inputmode: "decimal" });
  const lat = h("input", { id: "l110-lat", name: "lat", inputmode: "decimal" });
  const type = select("l110-type", TYPES.map((x) => [x, label("incidentType", x)]), "building_fire");
  const send = h("button", { type: "submit", class: "btn", "data-testid": "link110-send" }, t("link110.transferTo119"));
  const form = h(
    "form",
    { class: "stack", "data-testid": "link110-form" },
    field(t("link110.ref"), ref),
    field(t("fields.address"), address),
    field(t("link110.lon"), lon),
    field(t("link110.lat"), lat),
    field(t("fields.incidentType"), type),
    send,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(send, async () => {
      try {
        const body: Record<string, unknown> = { external_ref: ref.value.trim(), address_text: address.value.trim(), incident_type: type.value };
        if (lon.value.trim() && lat.value.trim()) {
          body.lon = Number(lon.value);
          body.lat = Number(lat.value);
        }
        const r = await api.post<TransferOut>("/transfers/110", body);
        toast(t("link110.transferred", { id: r.incident_id ?? "—" }), "ok");
        form.reset();
        await loadIncidents();
      } catch (err) {
        fail(err);
      }
    });
  });

  replace(
    main,
    h(
      "div",
      { class: "view-link110" },
      section(t("link110.incidentsTitle"), list),
      section(t("link110.detailTitle"), detail),
      section(t("link110.callsTitle"), calls),
      can("incidents:110") ? section(t("link110.transferTitle"), form) : null,
      can("links:read") ? section(t("link110.healthTitle"), health) : null,
    ),
  );

  void loadIncidents();
  void loadCalls();
  void loadHealth();
  if (current !== null) void showIncident(current);
  const refresh = debounce(() => void loadIncidents(), 150);
  const refreshCurrent = debounce(() => {
    if (current !== null) void showIncident(current);
  }, 150);
  const offEvents = live.subscribe((ev: LiveEvent) => {
    if (ev.type.startsWith("incident.")) {
      refresh();
      if (Number(ev.incident_id) === current) refreshCurrent();
    } else if (ev.type === "unit.status" && current !== null && Number(ev.incident_id) === current) {
      refreshCurrent();
    }
  });
  const offResync = live.onResync(() => {
    refresh();
    refreshCurrent();
  });
  const onSub = (ev: Event) => {
    const r = (ev as CustomEvent<string[]>).detail;
    if (r[0] === "incident" && r[1]) void showIncident(Number(r[1]));
  };
  window.addEventListener("firegrid:subroute", onSub);
  // calls and link health have no live entries: polled while the page is visible
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") {
      void loadCalls();
      void loadHealth();
    }
  }, 5000);
  return () => {
    offEvents();
    offResync();
    clearInterval(timer);
    window.removeEventListener("firegrid:subroute", onSub);
  };
}
