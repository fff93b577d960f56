// The checks a photo passes on the phone before it is queued (the server checks again).

export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/** Why a chosen photo cannot be sent (a locale key), or null when it is fine. */
export function photoProblem(file: { size: number; type: string } | null | undefined): string | null {
  if (!file) return null;
  if (!PHOTO_TYPES.includes(file.type)) return "rounds.photoType";
  if (file.size === 0) return "rounds.photoEmpty";
  if (file.size > MAX_PHOTO_BYTES) return "rounds.photoTooBig";
  return null;
}
