import { BANNER_CONTENT_TYPES, BANNER_MAX_BYTES } from '@dems/contracts';
import { ApiError } from '@/lib/api-client';
import { errorMessage, isSentence } from '@/lib/error-messages';

export type BannerContentType = (typeof BANNER_CONTENT_TYPES)[number];

/** What browsers may report for the accepted types, and extensions for files they report no type for. */
const TYPE_ALIASES: Record<string, BannerContentType> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'image/x-png': 'image/png' };
const EXTENSIONS: Record<string, BannerContentType> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** The file picker's `accept`: the three types the server takes. */
export const BANNER_ACCEPT = BANNER_CONTENT_TYPES.join(',');

/** The Content-Type to send a file with, or null when it is not one the server takes. */
export function bannerContentType(file: { name: string; type: string }): BannerContentType | null {
  const type = file.type.toLowerCase();
  if ((BANNER_CONTENT_TYPES as readonly string[]).includes(type)) return type as BannerContentType;
  if (TYPE_ALIASES[type]) return TYPE_ALIASES[type];
  // Some systems report no type at all; only then does the name decide (the server checks the content anyway).
  if (type === '') return EXTENSIONS[file.name.split('.').pop()?.toLowerCase() ?? ''] ?? null;
  return null;
}

/** "840 KB", "5.2 MB": sizes as people read them (1 MB = 1024 × 1024 bytes, as the 5 MB limit is counted). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

/**
 * Why a chosen file cannot be a banner, in plain words, before anything is sent — or null when it may be
 * uploaded. Only the name, type and size are known here; the server still judges the content.
 */
export function bannerFileProblem(file: { name: string; type: string; size: number }): string | null {
  if (!bannerContentType(file)) return `“${file.name}” is not a JPEG, PNG or WebP image. Please choose one of those.`;
  if (file.size === 0) return `“${file.name}” is empty. Please choose another image.`;
  if (file.size > BANNER_MAX_BYTES)
    return `“${file.name}” is ${formatBytes(file.size)}; a banner can be at most ${formatBytes(BANNER_MAX_BYTES)}. Please choose a smaller image or export it at a lower quality.`;
  return null;
}

/** Fallbacks for the banner codes, when the server's message is not a sentence to show as it is. */
const REFUSALS: Record<string, string> = {
  INVALID_IMAGE: 'We could not read that file as an image: it may be damaged, cut short, or not really a JPEG, PNG or WebP. Please choose another.',
  UNSUPPORTED_MEDIA_TYPE: 'Banners must be JPEG, PNG or WebP images. Please choose one of those.',
  PAYLOAD_TOO_LARGE: `That image is too large: a banner can be at most ${formatBytes(BANNER_MAX_BYTES)}.`,
  FORBIDDEN: 'Only the organizer of this event can change its banner.',
};

/**
 * The server's refusal of a banner in plain words. The events service explains what it found ("This file is an
 * SVG drawing…", "This image is 200 × 100 pixels…"), so its sentence is shown when it is one; a proxy's bare 413
 * (no DEMS body) counts as too large.
 */
export function bannerErrorMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return errorMessage(error);
  const code = error.status === 413 ? 'PAYLOAD_TOO_LARGE' : error.code;
  const fallback = REFUSALS[code];
  if (!fallback) return errorMessage(error);
  return error.code === code && isSentence(error.message) ? error.message : fallback;
}
