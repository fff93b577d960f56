// Planning jobs in the console: start a background job (a station plan, a simulation of a plan,
// a hydrant or a logistics plan), poll GET /planning/jobs/{id} and show its progress (and a
// station plan's stage) until it ends.

import { api, t } from "../ctx";
import { replace } from "../dom";
import { fieldText } from "../servertext";

export interface PlanningJob {
  id: number;
  kind: string;
  status: "queued" | "running" | "done" | "failed";
  plan_id: number | null;
  progress_share: number | null;
  stage?: string | null;
  error: { code: string; message: string } | null;
  retriable: boolean;
}

const POLL_MS = 1000;

export function jobStatusText(job: PlanningJob): string {
  const pct = job.progress_share === null ? "" : ` ${(job.progress_share * 100).toFixed(0)}%`;
  const stage = job.stage ? ` · ${t(`siting.jobs.stages.${job.stage}`)}` : "";
  const base = `${t(`siting.jobs.kinds.${job.kind}`)} #${job.id}: ${t(`siting.jobs.status.${job.status}`)}${pct}${stage}`;
  return job.error ? `${base} — ${fieldText(t, job.error as unknown as Record<string, unknown>, "message")}` : base;
}

/** Start a job and follow it until it is done or failed; the status line shows progress. */
export async function followJob(start: () => Promise<PlanningJob>, status: HTMLElement): Promise<PlanningJob> {
  let job = await start();
  replace(status, jobStatusText(job));
  while (job.status === "queued" || job.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await api.get<PlanningJob>(`/planning/jobs/${job.id}`);
    replace(status, jobStatusText(job));
  }
  return job;
}
