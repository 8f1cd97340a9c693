// What `npm run deploy:web` uploads from a built web app, with which headers, in which order. No I/O beyond
// reading the build directory, so the rules can be read (and tested) apart from S3.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import mime from 'mime-types';

/** Hashed files never change under their name: browsers and CloudFront keep them for a year without asking. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else may change on the next deploy: caches must revalidate (cheap: S3 answers 304 by ETag). */
export const REVALIDATE = 'no-cache';

/**
 * Vite writes its bundles to assets/ as <name>-<hash>.<ext>, the hash being 8 characters of base64url of the
 * content; files from web/public keep their names at the top level and are not hashed.
 */
export function isHashedAsset(path) {
  return /^assets\/(?:.+\/)?[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/.test(path);
}

/**
 * Every file below dir, as paths relative to it with forward slashes (they become object keys and URL paths).
 * Dot files (.DS_Store, an editor's swap file) are not part of a build and are left out.
 */
function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The files of a build, in upload order: hashed assets first, then the other files, index.html last, so that
 * at no moment does the bucket hold an index.html whose scripts and styles are not there yet.
 * Each: { path (relative, '/'-separated), file (absolute), size, contentType, cacheControl, immutable }.
 */
export function planUpload(dir) {
  const files = listFiles(dir).map((path) => {
    const immutable = isHashedAsset(path);
    return {
      path,
      file: join(dir, path),
      size: statSync(join(dir, path)).size,
      contentType: mime.contentType(path.split('/').pop()) || 'application/octet-stream',
      cacheControl: immutable ? IMMUTABLE : REVALIDATE,
      immutable,
    };
  });
  const rank = (f) => (f.immutable ? 0 : f.path === 'index.html' ? 2 : 1);
  return files.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/**
 * The viewer paths CloudFront must forget after a deploy: the files that are not immutable (index.html, the
 * favicon, …) and "/", which CloudFront caches apart from /index.html. Never "/*": the hashed assets cannot be
 * stale (a new build gives them new names), and forgetting them would only send every visitor back to S3.
 */
export function invalidationPaths(plan) {
  return ['/', ...plan.filter((f) => !f.immutable).map((f) => `/${f.path}`)];
}

/** "840 KB", "1.3 MB" for progress lines. */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
