// Grid worker (phone): my on-site verification tasks and the check form (result, note, photo).

import { alerts, api, categoryName, fail, i18n, label, live, t, toast } from "../ctx";
import { debounce, h, replace } from "../dom";
import type { LiveEvent } from "../live";
import { formatDateTime, formatTime } from "../time";
import { badge, busy, dl, field, section, select, table } from "./common";
import { FalseReasonValues } from "../generated/enums";
import type { Counted_TaskOut_, DossierVenue, TaskWithVenue } from "../generated/api";

export function mountTasks(root: HTMLElement, rest: string[]): () => void {
  const page = h("div", { class: "phone-page", "data-testid": "tasks-page" });
  const banner = h("div", { class: "fire-banner", role: "alert", "data-testid": "task-banner", hidden: true });
  root.append(banner, page);
  let status = "open";
  let onList = false;
  let known: Set<number> | null = null;

  async function showList(): Promise<void> {
    onList = true;
    try {
      const list = await api.get<Counted_TaskOut_>("/alarms/tasks", { status });
      if (!onList) return;
      const filter = select("task-status", [["open", label("taskStatus", "open")], ["done", label("taskStatus", "done")]], status, {
        onchange: (ev: Event) => {
          status = (ev.target as HTMLSelectElement).value;
          void showList();
        },
      });
      replace(
        page,
        h("h2", null, t("tasks.title")),
        field(t("fields.status"), filter),
        list.items.length
          ? h(
              "ul",
              { class: "cards", "data-testid": "task-list" },
              list.items.map((task) =>
                h(
                  "li",
                  null,
                  h(
                    "a",
                    { class: "card-link", href: `#/tasks/${task.id}`, "data-task-id": task.id },
                    h("strong", null, t("tasks.task", { id: task.id })),
                    " ",
                    badge("taskStatus", task.status),
                    h("span", { class: "muted block" }, `${t("fields.due")}: ${formatTime(task.due_at, i18n.locale)}`),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted empty" }, t("tasks.none")),
        h("button", { type: "button", class: "btn", onclick: () => void showList() }, t("common.refresh")),
      );
    } catch (err) {
      fail(err);
    }
  }

  async function showTask(id: number): Promise<void> {
    onList = false;
    try {
      const task = await api.get<TaskWithVenue>(`/alarms/tasks/${id}`);
      const venue: Partial<DossierVenue> = task.venue.venue ?? {};
      const devices = task.venue.devices ?? [];
      const result = h(
        "fieldset",
        { class: "choices" },
        h("legend", null, t("tasks.result")),
        ["fire", "false_alarm", "fault"].map((r) =>
          h("label", { class: "choice", for: `result-${r}` }, h("input", { type: "radio", name: "result", id: `result-${r}`, value: r, required: true }), " ", label("taskResult", r)),
        ),
      );
      const reason = select("task-reason", FalseReasonValues.map((r) => [r, label("falseReason", r)]), "unknown");
      const reasonField = field(t("actions.reason"), reason);
      reasonField.hidden = true;
      result.addEventListener("change", () => {
        const chosen = result.querySelector<HTMLInputElement>("input:checked")?.value;
        reasonField.hidden = chosen !== "false_alarm";
      });
      const note = h("textarea", { id: "task-note", rows: 3, maxlength: 2000 });
      const photo = h("input", { id: "task-photo", type: "file", accept: "image/*", capture: "environment" });
      const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", id: "task-submit" }, t("tasks.submit"));
      const form = h(
        "form",
        {
          class: "task-form",
          onsubmit: async (ev: Event) => {
            ev.preventDefault();
            const chosen = result.querySelector<HTMLInputElement>("input:checked")?.value;
            if (!chosen) {
              toast(t("tasks.chooseResult"), "error");
              return;
            }
            const data = new FormData();
            data.append("result", chosen);
            if (chosen === "false_alarm") data.append("reason", reason.value);
            data.append("note", note.value);
            const file = photo.files?.[0];
            if (file) data.append("photo", file, file.name);
            await busy(submit, async () => {
              try {
                await api.postForm(`/alarms/tasks/${id}/result`, data);
                toast(t("tasks.sent"), "ok");
                location.hash = "#/tasks";
              } catch (err) {
                fail(err);
              }
            });
          },
        },
        result,
        reasonField,
        field(t("actions.note"), note),
        field(t("tasks.photo"), photo),
        submit,
      );
      replace(
        page,
        h("a", { href: "#/tasks", class: "back" }, `← ${t("tasks.title")}`),
        h("h2", null, t("tasks.task", { id: task.id }), " ", badge("taskStatus", task.status)),
        dl([
          [t("fields.venue"), venue.name ?? null],
          [t("fields.category"), categoryName(venue.category as string)],
          [t("fields.address"), venue.address ?? null],
          [t("fields.contact"), [venue.contact_name, venue.contact_phone].filter(Boolean).join(" ") || null],
          [t("fields.created"), formatDateTime(task.created_at, i18n.locale)],
          [t("fields.due"), formatDateTime(task.due_at, i18n.locale)],
        ]),
        venue.lon !== undefined ? h("a", { class: "btn btn-block", href: `geo:${venue.lat},${venue.lon}` }, t("tasks.navigate")) : null,
        section(t("monitor.devices"), table([t("fields.device"), t("fields.kind"), t("fields.location")], devices.map((d) => [d.code, label("deviceKind", d.kind), d.install_location ?? ""]))),
        task.status === "open" ? form : dl([[t("tasks.result"), label("taskResult", task.result)], [t("actions.note"), task.note]]),
      );
    } catch (err) {
      fail(err);
    }
  }

  function route(r: string[]): void {
    if (r[0]) void showTask(Number(r[0]));
    else void showList();
  }

  // Live: a new task (or a cancelled/finished one) shows without "refresh". ---------------
  function announce(taskId: number): void {
    const key = `task:${taskId}`;
    alerts.raise({ key, title: t("tasks.newTask"), body: t("tasks.task", { id: taskId }) });
    banner.hidden = false;
    banner.dataset.taskId = String(taskId);
    replace(
      banner,
      h("strong", null, t("tasks.newTask")),
      " ",
      h("a", { class: "btn btn-light", href: `#/tasks/${taskId}`, "data-testid": "task-banner-open", onclick: () => { banner.hidden = true; alerts.ack(key); } }, t("tasks.task", { id: taskId })),
      h("button", { type: "button", class: "btn btn-ghost", "data-testid": "task-banner-ack", "aria-label": t("alerts.ack"), onclick: () => { banner.hidden = true; alerts.ack(key); } }, "×"),
    );
  }

  /** Open tasks now; announce those not seen before (not on the first look). */
  async function checkNew(): Promise<void> {
    try {
      const open = await api.get<Counted_TaskOut_>("/alarms/tasks", { status: "open" });
      const ids = new Set(open.items.map((x) => x.id));
      if (known !== null) for (const id of ids) if (!known.has(id)) announce(id);
      known = ids;
    } catch {
      /* the list shows the error */
    }
  }

  const refresh = debounce(() => {
    void checkNew();
    if (onList) void showList();
  }, 150);
  const offEvents = live.subscribe((ev: LiveEvent) => {
    if (ev.type.startsWith("task.")) refresh();
  });
  const offResync = live.onResync(() => refresh());
  const onSub = (ev: Event) => route((ev as CustomEvent<string[]>).detail);
  window.addEventListener("firegrid:subroute", onSub);
  void checkNew();
  route(rest);
  return () => {
    offEvents();
    offResync();
    window.removeEventListener("firegrid:subroute", onSub);
  };
}
