// Admin: work orders (open, overdue, done; closed here with a note as evidence) and the
// quarantine of unknown devices (their messages; adoption at a venue, after which their
// quarantined messages are replayed into the event log).

import { ADOPT_KINDS, checkAdopt } from "../adminforms";
import { api, i18n, label, t, toast } from "../ctx";
import { debounce, h, replace } from "../dom";
import type { AdoptedDevice, Counted_WorkOrderOut_, QuarantinedDevice, QuarantinedDevices, QuarantinedMessages, VenueOut, WorkOrderOut } from "../generated/api";
import { formatDateTime } from "../time";
import { busy, field, section, select, table } from "./common";
import { applyProblems, moreButton, problemField, refuse, showServerProblem } from "./admin_common";

const when = (v: string | null | undefined) => (v ? formatDateTime(v, i18n.locale) : "");

export function workOrdersTab(box: HTMLElement): () => void {
  let alive = true;
  let rows: WorkOrderOut[] = [];
  const status = select("wo-status", [["open", t("admin.work.open")], ["done", t("admin.work.done")], ["", t("admin.all")]], "open");
  const overdue = h("input", { id: "wo-overdue", type: "checkbox" });
  const listBox = h("div", { "data-testid": "workorders-list" });
  const more = moreButton("workorders-more", () => load(false));
  status.addEventListener("change", () => void load(true));
  overdue.addEventListener("change", () => void load(true));

  async function load(fresh: boolean): Promise<void> {
    const after = fresh || !rows.length ? null : rows[rows.length - 1].id;
    try {
      const page = await api.get<Counted_WorkOrderOut_>("/alarms/workorders", { status: status.value || null, overdue: overdue.checked ? true : null, after, limit: 50 });
      if (!alive) return;
      rows = fresh ? page.items : [...rows, ...page.items];
      more.hidden = page.items.length < 50;
      draw();
    } catch (err) {
      refuse(err, "load");
    }
  }

  function closeForm(o: WorkOrderOut): HTMLElement {
    const note = h("input", { id: `wo-${o.id}-note`, autocomplete: "off", maxlength: 2000, "aria-label": t("admin.work.noteOf", { id: o.id }), placeholder: t("admin.work.note") });
    const close = h("button", { type: "button", class: "btn btn-small", "data-action": "close-workorder" }, t("admin.work.close"));
    close.addEventListener("click", () =>
      void busy(close, async () => {
        if (!note.value.trim()) {
          note.setAttribute("aria-invalid", "true");
          toast(t("admin.problems.evidence"), "error");
          note.focus();
          return;
        }
        try {
          const form = new FormData();
          form.append("note", note.value.trim());
          await api.postForm<WorkOrderOut>(`/alarms/workorders/${o.id}/close`, form);
          toast(t("admin.work.closed", { id: o.id }), "ok");
          await load(true);
        } catch (err) {
          refuse(err, "closeWorkOrder");
        }
      }),
    );
    return h("div", { class: "inline-form" }, note, close);
  }

  function draw(): void {
    replace(
      listBox,
      table(
        [t("admin.work.id"), t("fields.kind"), t("admin.work.title"), t("fields.venueId"), t("admin.work.assignee"), t("admin.work.opened"), t("fields.due"), t("fields.status"), t("admin.work.closure")],
        rows.map((o) => [
          `#${o.id}`,
          label("workOrderKind", o.kind),
          o.title,
          o.venue_id ?? "",
          o.assignee_name ? `${o.assignee_name} (${label("assigneeKind", o.assignee_kind)})` : "",
          when(o.opened_at),
          h("span", { class: o.overdue ? "badge badge-off" : "" }, when(o.due_at), o.overdue ? ` · ${t("admin.work.overdue")}` : ""),
          label("workOrderStatus", o.status),
          o.status === "open" ? closeForm(o) : [o.closed_by, o.closure_note].filter(Boolean).join(" · "),
        ]),
        { testid: "workorders-table", empty: t("admin.work.none"), rowAttrs: (i) => ({ "data-workorder-id": rows[i]?.id }) },
      ),
    );
  }

  replace(box, section(t("admin.work.titleList"), h("div", { class: "filters" }, field(t("fields.status"), status), h("label", { class: "check", for: "wo-overdue" }, overdue, t("admin.work.onlyOverdue"))), listBox, more));
  void load(true);
  return () => {
    alive = false;
  };
}

export function quarantineTab(box: HTMLElement): () => void {
  let alive = true;
  const adopted = h("input", { id: "q-include-adopted", type: "checkbox" });
  adopted.addEventListener("change", () => void load());
  const listBox = h("div", { "data-testid": "quarantine-list" });
  const detail = h("div", { "data-testid": "quarantine-detail", "aria-live": "polite" });

  async function load(): Promise<void> {
    try {
      const page = await api.get<QuarantinedDevices>("/ingest/quarantine", { include_adopted: adopted.checked, limit: 200 });
      if (!alive) return;
      replace(
        listBox,
        table(
          [t("fields.protocol"), t("fields.externalId"), t("admin.quarantine.firstSeen"), t("admin.quarantine.lastSeen"), t("admin.quarantine.messages"), t("admin.quarantine.peer"), t("fields.status"), t("fields.action")],
          page.items.map((d) => [
            label("protocol", d.protocol),
            h("code", null, d.external_id),
            when(d.first_seen),
            when(d.last_seen),
            d.message_count,
            d.last_peer,
            d.adopted_device_id ? t("admin.quarantine.adoptedAs", { id: d.adopted_device_id, n: d.replayed_events }) : t("admin.quarantine.unknown"),
            h(
              "div",
              { class: "actions" },
              h("button", { type: "button", class: "btn btn-small", "data-action": "messages", onclick: () => void showMessages(d) }, t("admin.quarantine.showMessages")),
              d.adopted_device_id ? null : h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "adopt", onclick: () => showAdopt(d) }, t("admin.quarantine.adopt")),
            ),
          ]),
          { testid: "quarantine-table", empty: t("admin.quarantine.none"), rowAttrs: (i) => ({ "data-external-id": page.items[i]?.external_id }) },
        ),
      );
    } catch (err) {
      refuse(err, "load");
    }
  }

  async function showMessages(d: QuarantinedDevice): Promise<void> {
    try {
      const r = await api.get<QuarantinedMessages>(`/ingest/quarantine/${d.id}/messages`, { limit: 20 });
      replace(
        detail,
        section(
          t("admin.quarantine.messagesOf", { id: d.external_id }),
          table(
            [t("fields.time"), t("admin.quarantine.summary"), t("admin.quarantine.raw")],
            r.items.map((m) => [when(m.received_at), h("code", { class: "wrap" }, JSON.stringify(m.summary)), h("code", { class: "wrap" }, m.raw_hex.slice(0, 120))]),
            { testid: "quarantine-messages" },
          ),
        ),
      );
    } catch (err) {
      refuse(err, "load");
    }
  }

  function showAdopt(d: QuarantinedDevice): void {
    const venueQuery = h("input", { id: "adopt-venue-search", autocomplete: "off", type: "search" });
    const hits = h("ul", { class: "typeahead", "data-testid": "adopt-venue-hits" });
    const venueId = h("input", { id: "adopt-venue_id", autocomplete: "off", inputmode: "numeric", required: true });
    const code = h("input", { id: "adopt-code", autocomplete: "off", maxlength: 40, value: `${d.protocol.toUpperCase()}-${d.external_id}`.slice(0, 40), required: true });
    const kind = select("adopt-kind", ADOPT_KINDS.map((k): [string, string] => [k, label("deviceKind", k)]), d.protocol === "gb26875" ? "transmitter" : "smoke_alarm");
    const location = h("input", { id: "adopt-install_location", autocomplete: "off", maxlength: 200 });
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "adopt-submit" }, t("admin.quarantine.adopt"));
    const search = debounce(async () => {
      const q = venueQuery.value.trim();
      if (!q) return replace(hits);
      try {
        const page = await api.get<{ items: VenueOut[] }>("/venues", { name: q, limit: 8 });
        replace(
          hits,
          page.items.map((v) =>
            h("li", null, h("button", { type: "button", class: "btn btn-link", onclick: () => { venueId.value = String(v.id); replace(hits); venueId.focus(); } }, `#${v.id} ${v.name} · ${v.address}`)),
          ),
        );
      } catch (err) {
        refuse(err, "load");
      }
    }, 200);
    venueQuery.addEventListener("input", () => void search());
    const form = h(
      "form",
      { class: "admin-form", "data-testid": "adopt-form", novalidate: true, "aria-label": t("admin.quarantine.adoptTitle", { id: d.external_id }) },
      h(
        "div",
        { class: "form-grid" },
        field(t("admin.quarantine.findVenue"), venueQuery),
        hits,
        problemField(t("fields.venueId"), venueId),
        problemField(t("fields.code"), code),
        problemField(t("fields.kind"), kind),
        problemField(t("fields.location"), location),
      ),
      submit,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const checked = checkAdopt({ venue_id: venueId.value, code: code.value, kind: kind.value, install_location: location.value });
      applyProblems(form, "adopt", checked.problems);
      if (!checked.body) return;
      const body = checked.body;
      void busy(submit, async () => {
        try {
          const r = await api.post<AdoptedDevice>(`/ingest/quarantine/${d.id}/adopt`, body);
          toast(t("admin.quarantine.adopted", { code: r.code, venue: r.venue_id }), "ok");
          replace(detail);
          await load();
        } catch (err) {
          if (err instanceof Error && "status" in err && (err as { status: number }).status === 422) showServerProblem(form, "adopt", err);
          else refuse(err, "adopt");
        }
      });
    });
    replace(detail, section(t("admin.quarantine.adoptTitle", { id: d.external_id }), form));
    venueQuery.focus();
  }

  replace(box, section(t("admin.quarantine.title"), h("p", { class: "muted" }, t("admin.quarantine.hint")), h("div", { class: "filters" }, h("label", { class: "check", for: "q-include-adopted" }, adopted, t("admin.quarantine.includeAdopted"))), listBox), detail);
  void load();
  return () => {
    alive = false;
  };
}
