import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What a service keeps on disk (password hashes, emails, orders, keys) is for this OS user only: files 0600,
 * directories 0700. Explicit modes here, and runService's umask for anything else a process creates.
 */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/** Creates `dir` and any missing parents with mode 0700 (an existing directory is left as its owner set it). */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
}

/**
 * Creates `file` if missing, and sets it and its existing `companions` (suffixes such as -wal) to 0600: a file
 * written by an older version, or under a looser umask, is tightened the next time it is opened.
 */
export function makePrivateFile(file: string, companions: readonly string[] = []): void {
  makePrivateDir(dirname(file));
  closeSync(openSync(file, 'a', PRIVATE_FILE));
  for (const path of [file, ...companions.map((suffix) => `${file}${suffix}`)]) {
    if (existsSync(path)) chmodSync(path, PRIVATE_FILE);
  }
}
