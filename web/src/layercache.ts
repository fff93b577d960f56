// The map's layers, fetched once per page (kept apart from map.ts so the shell can clear
// it without loading Leaflet).

import { api } from "./ctx";

/**
 * Layers fetched once per page: the same URL asked again (another view, a pan back, two
 * parts of a refresh) shares one request and its answer. `fresh` asks the server again
 * (the browser revalidates with the layer's ETag, so an unchanged layer is a bodiless 304).
 */
const layerCache = new Map<string, Promise<unknown>>();
const LAYER_CACHE_SIZE = 80;

export function cachedLayer<T>(path: string, params: Record<string, string | number>, fresh = false): Promise<T> {
  const key = `${path}?${Object.entries(params).map(([k, v]) => `${k}=${v}`).join("&")}`;
  const found = layerCache.get(key);
  if (found && !fresh) {
    layerCache.delete(key);
    layerCache.set(key, found);
    return found as Promise<T>;
  }
  const request = api.get<T>(path, params);
  layerCache.set(key, request);
  request.catch(() => {
    if (layerCache.get(key) === request) layerCache.delete(key);
  });
  while (layerCache.size > LAYER_CACHE_SIZE) layerCache.delete(layerCache.keys().next().value as string);
  return request;
}

/** Forget every layer (at sign-in and sign-out: another caller may have another scope). */
export function clearLayerCache(): void {
  layerCache.clear();
}

/** Forget the answers of one layer (e.g. the venues, whose colours follow the alarms). */
export function forgetLayer(path: string): void {
  for (const key of [...layerCache.keys()]) if (key.startsWith(`${path}?`)) layerCache.delete(key);
}
