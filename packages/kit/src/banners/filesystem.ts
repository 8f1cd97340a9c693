import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { assertBannerKey, assertBannerPrefix, isBannerKey, type BannerObject, type BannerStore } from './banner-store.js';

const CONTENT_TYPES: Record<string, string> = { '.webp': 'image/webp', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png' };

const isMissing = (err: unknown) => ['ENOENT', 'ENOTDIR', 'ELOOP'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Banners as files under one directory (`npm start`: `<DATA_DIR>/banners`), one folder per event. The content type
 * follows from the extension and the cache policy is the gateway's to send, so neither is stored.
 */
export class FilesystemBannerStore implements BannerStore {
  readonly location: string;

  constructor(private readonly dir: string) {
    this.location = resolve(dir);
  }

  private pathOf(key: string): string {
    return join(this.location, ...key.split('/'));
  }

  async put(key: string, bytes: Buffer, _meta?: { contentType: string; cacheControl: string }): Promise<void> {
    assertBannerKey(key);
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Written beside its final name, flushed, then renamed into place: a reader sees the whole file or none, and a
    // crash leaves at most a hidden temporary file (a name no key can have) instead of a truncated banner.
    const temporary = join(dirname(path), `.${randomUUID()}.tmp`);
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, path);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
    await syncDirectory(dirname(path));
  }

  async get(key: string): Promise<BannerObject | null> {
    if (!isBannerKey(key)) return null;
    let file;
    try {
      // O_NOFOLLOW: a symbolic link planted in the folder is not followed out of it.
      file = await open(this.pathOf(key), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    const stat = await file.stat();
    if (!stat.isFile()) {
      await file.close();
      return null;
    }
    return {
      body: file.createReadStream(), // closes the file when the stream ends or is destroyed
      contentType: CONTENT_TYPES[extname(key).toLowerCase()] ?? 'application/octet-stream',
      length: stat.size,
    };
  }

  async delete(keys: readonly string[]): Promise<void> {
    keys.forEach(assertBannerKey);
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.pathOf(key);
      await unlink(path).catch((err: unknown) => {
        if (!isMissing(err)) throw err;
      });
      folders.add(dirname(path));
    }
    // An event's folder goes with its last banner; one still holding files (a newer upload) stays.
    for (const folder of folders) {
      if (folder !== this.location) await rmdir(folder).catch(() => {});
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertBannerPrefix(prefix);
    const keys: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.location, relative), { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const entry of entries) {
        const key = `${relative}${entry.name}`;
        if (entry.isDirectory()) await walk(`${key}/`);
        else if (entry.isFile() && isBannerKey(key)) keys.push(key);
      }
    };
    await walk(prefix);
    return keys;
  }

  async close(): Promise<void> {}
}

/** Makes a rename in `dir` durable (POSIX: the directory entry is only safe once the directory is flushed). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
