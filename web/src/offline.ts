// Opening the console without a network (a grid worker in a village with no signal): the
// page comes from the service worker's cache (/sw.js, built from shell/sw.js), and who is
// signed in from the last answer of /auth/me kept here. The session cookie stays the only
// credential: every request the page makes once the network is back is checked by the
// server as usual.

const ME_KEY = "firegrid.me";

export function rememberMe<T>(me: T): void {
  try {
    localStorage.setItem(ME_KEY, JSON.stringify(me));
  } catch {
    /* private mode or full: the page simply will not open offline */
  }
}

export function rememberedMe<T>(): T | null {
  try {
    const text = localStorage.getItem(ME_KEY);
    return text ? (JSON.parse(text) as T) : null;
  } catch {
    return null;
  }
}

export function forgetMe(): void {
  try {
    localStorage.removeItem(ME_KEY);
  } catch {
    /* nothing kept */
  }
}

/** Install the offline shell: its worker precaches the page and every asset of this build
 * (about half a megabyte). Registered once the page has loaded and the browser is idle, so
 * the precache does not compete with the first view and its map for the network. */
export function registerShell(): void {
  if (typeof navigator === "undefined" || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  const register = () =>
    navigator.serviceWorker.register("/sw.js").catch(() => {
      /* no offline shell (e.g. a private window): the console works online as before */
    });
  const whenIdle = () => ("requestIdleCallback" in window ? window.requestIdleCallback(() => void register(), { timeout: 5000 }) : setTimeout(register, 1000));
  if (document.readyState === "complete") whenIdle();
  else window.addEventListener("load", whenIdle, { once: true });
}
