// Times are stored in UTC by the platform and always shown in China Standard Time.

export const TIME_ZONE = "Asia/Shanghai";

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, kind: "datetime" | "time" | "date"): Intl.DateTimeFormat {
  const key = `${locale}|${kind}`;
  let fmt = cache.get(key);
  if (!fmt) {
    const base: Intl.DateTimeFormatOptions = { timeZone: TIME_ZONE, hourCycle: "h23" };
    const parts: Intl.DateTimeFormatOptions =
      kind === "time"
        ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
        : kind === "date"
          ? { year: "numeric", month: "2-digit", day: "2-digit" }
          : {
              year: "numeric",
              month: "2-digit",
              day: "2-digit",
              hour: "2-digit",
              minute: "2-digit",
              second: "2-digit",
            };
    fmt = new Intl.DateTimeFormat(locale, { ...base, ...parts });
    cache.set(key, fmt);
  }
  return fmt;
}

function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `2026-11-25 10:00:00` style, in Asia/Shanghai. */
export function formatDateTime(value: string | number | Date | null | undefined, locale = "zh-CN"): string {
  const date = toDate(value);
  if (!date) return "—";
  const p: Record<string, string> = {};
  for (const part of formatter(locale, "datetime").formatToParts(date)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** `10:00:00`, in Asia/Shanghai. */
export function formatTime(value: string | number | Date | null | undefined, locale = "zh-CN"): string {
  const date = toDate(value);
  if (!date) return "—";
  return formatter(locale, "time").format(date);
}

/** A duration in seconds as `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
