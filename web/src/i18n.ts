// Translations: every string the console shows comes from src/locales/*.json.
// Lookup: the current locale, then the fallback locale (zh-CN), then the key itself.

export type Dict = { [key: string]: string | Dict };
export type Params = Record<string, string | number>;

export const DEFAULT_LOCALE = "zh-CN";
export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];

export function lookup(dict: Dict | undefined, key: string): string | undefined {
  let node: string | Dict | undefined = dict;
  for (const part of key.split(".")) {
    if (node === undefined || typeof node === "string") return undefined;
    node = node[part];
  }
  return typeof node === "string" ? node : undefined;
}

export function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in params ? String(params[name]) : match,
  );
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

export class I18n {
  private listeners = new Set<() => void>();
  locale: Locale;

  constructor(
    private dicts: Record<string, Dict>,
    locale: string = DEFAULT_LOCALE,
    private fallback: Locale = DEFAULT_LOCALE,
  ) {
    this.locale = isLocale(locale) ? locale : fallback;
  }

  t(key: string, params?: Params): string {
    const text =
      lookup(this.dicts[this.locale], key) ?? lookup(this.dicts[this.fallback], key) ?? key;
    return interpolate(text, params);
  }

  /** A label of an enumerated value (`group.value`), or the value itself when unknown. */
  label(group: string, value: string | null | undefined): string {
    if (value === null || value === undefined || value === "") return "—";
    const key = `${group}.${value}`;
    const text = this.t(key);
    return text === key ? value : text;
  }

  has(key: string): boolean {
    return lookup(this.dicts[this.locale], key) !== undefined;
  }

  setLocale(locale: string): void {
    if (!isLocale(locale) || locale === this.locale) return;
    this.locale = locale;
    this.listeners.forEach((fn) => fn());
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
