// The API client: same-origin fetch with the session cookie, the CSRF header on every
// state-changing request, and the platform's error envelope turned into ApiError.

export interface RowError {
  line?: number;
  column?: string;
  reason?: string;
  /** the reason as a text code and its parameters (translated by ./servertext) */
  code?: string | null;
  params?: Record<string, string | number | boolean | null>;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    /** the message as a text code and its parameters (translated by ./servertext) */
    readonly messageCode: string | null = null,
    readonly messageParams: Record<string, string | number | boolean | null> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Row errors of an import (`details.errors[]`), empty for other errors. */
  get rowErrors(): RowError[] {
    const details = this.details as { errors?: unknown } | null;
    if (details && Array.isArray(details.errors)) return details.errors as RowError[];
    return [];
  }
}

/** Read the error envelope `{"error": {"code", "message", "details"}}` of a failed response. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  const text = await response.text().catch(() => "");
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown; message_code?: unknown; message_params?: unknown } } | null)
    ?.error;
  if (error && typeof error === "object") {
    return new ApiError(
      response.status,
      typeof error.code === "string" ? error.code : "error",
      typeof error.message === "string" ? error.message : response.statusText || "error",
      error.details ?? null,
      typeof error.message_code === "string" ? error.message_code : null,
      error.message_params && typeof error.message_params === "object" ? (error.message_params as Record<string, string | number | boolean | null>) : {},
    );
  }
  const detail = (body as { detail?: unknown } | null)?.detail;
  return new ApiError(
    response.status,
    response.status === 0 ? "network" : `http_${response.status}`,
    typeof detail === "string" ? detail : text.slice(0, 200) || response.statusText || "error",
    null,
  );
}

export function readCookie(cookies: string, name: string): string {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

export function queryString(params?: Query): string {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, String(v)));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  onUnauthorized: (() => void) | null = null;

  constructor(
    readonly base = "/api/v1",
    private fetchImpl: FetchLike = (input, init) => fetch(input, init),
    private cookies: () => string = () => (typeof document === "undefined" ? "" : document.cookie),
  ) {}

  url(path: string, params?: Query): string {
    return `${this.base}${path}${queryString(params)}`;
  }

  csrfToken(): string {
    return readCookie(this.cookies(), "firegrid_csrf");
  }

  async request<T>(
    method: string,
    path: string,
    init: { params?: Query; body?: unknown; form?: FormData; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
    let body: BodyInit | undefined;
    if (init.form) {
      body = init.form;
    } else if (init.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(init.body);
    }
    if (method !== "GET" && method !== "HEAD") {
      const token = this.csrfToken();
      if (token) headers["X-CSRF-Token"] = token;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path, init.params), {
        method,
        headers,
        body,
        credentials: "same-origin",
      });
    } catch (err) {
      throw new ApiError(0, "network", err instanceof Error ? err.message : String(err));
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (response.status === 401 && this.onUnauthorized && !path.startsWith("/auth/login")) {
        this.onUnauthorized();
      }
      throw error;
    }
    if (response.status === 204) return undefined as T;
    const type = response.headers.get("content-type") ?? "";
    if (type.includes("json")) return (await response.json()) as T;
    return (await response.text()) as unknown as T;
  }

  get<T>(path: string, params?: Query): Promise<T> {
    return this.request<T>("GET", path, { params });
  }

  post<T>(path: string, body?: unknown, params?: Query): Promise<T> {
    return this.request<T>("POST", path, { body, params });
  }

  postForm<T>(path: string, form: FormData, params?: Query): Promise<T> {
    return this.request<T>("POST", path, { form, params });
  }
}
