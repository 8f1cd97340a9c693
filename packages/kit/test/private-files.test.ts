import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, closeSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '@dems/kit/sqlite';
import { tempDir } from '@dems/kit/testing';
// The launcher's helpers: they make the data directory, the logs and the service secret of `npm start`.
import { makePrivateDir, openPrivateLog, serviceSecret } from '../../../scripts/lib/system.mjs';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('files on disk are readable by their owner only', () => {
  const dirs: { cleanup: () => void }[] = [];
  const fresh = () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir.path;
  };
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  it('a new SQLite store: its directory 0700, the file and its -wal and -shm 0600', () => {
    const dataDir = join(fresh(), 'data');
    const file = join(dataDir, 'engagement.db');
    const db = openSqlite(file);
    db.exec("CREATE TABLE users (email TEXT); INSERT INTO users VALUES ('a@example.com')");
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(existsSync(`${file}-shm`)).toBe(true);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
    db.close();
  });

  it('an existing store left world-readable by an older version is tightened when opened', () => {
    const file = join(fresh(), 'ticketing.db');
    openSqlite(file).exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    // The first handle is left open, so -wal and -shm stay on disk as after a crash.
    for (const path of [file, `${file}-wal`, `${file}-shm`]) chmodSync(path, 0o644);
    const db = openSqlite(file);
    expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    expect(db.prepare('SELECT x FROM t').pluck().get()).toBe(1);
    db.close();
  });

  it("npm start's data directory, logs and service secret, new or left loose by an older version", () => {
    const dataDir = join(fresh(), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    makePrivateDir(dataDir);
    makePrivateDir(join(dataDir, 'logs'));
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'logs'))).toBe(0o700);

    const log = join(dataDir, 'logs', 'gateway.log');
    closeSync(openPrivateLog(log));
    expect(mode(log)).toBe(0o600);
    chmodSync(log, 0o644);
    closeSync(openPrivateLog(log));
    expect(mode(log)).toBe(0o600);

    const saved = process.env.SERVICE_SECRET;
    delete process.env.SERVICE_SECRET;
    try {
      serviceSecret(dataDir);
      expect(mode(join(dataDir, 'service-secret'))).toBe(0o600);
      writeFileSync(join(dataDir, 'service-secret'), 'x'.repeat(32), { mode: 0o644 });
      chmodSync(join(dataDir, 'service-secret'), 0o644);
      expect(serviceSecret(dataDir)).toBe('x'.repeat(32));
      expect(mode(join(dataDir, 'service-secret'))).toBe(0o600);
    } finally {
      if (saved !== undefined) process.env.SERVICE_SECRET = saved;
    }
  });
});
