// Preloaded into each service by `npm run bench -- --cpu-prof` (NODE_OPTIONS=--import …; node refuses --cpu-prof
// there): profiles the whole process and writes <DEMS_PROFILE_DIR>/<pid>-<script>.cpuprofile when it exits.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dir = process.env.DEMS_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process inspector answers synchronously, so this completes before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      const script = process.argv[1] ? basename(dirname(dirname(process.argv[1]))) : 'node';
      writeFileSync(join(dir, `${script}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
