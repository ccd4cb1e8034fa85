// Debian's nginx (installed by scripts/setup.sh) as a reverse proxy in front of test servers:
// started on loopback with its own prefix, config and logs in a temp dir, stopped by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Runs nginx with `site` (an http-context config) included; resolves once `port` accepts connections. */
export async function startNginx(site: string, port: number): Promise<Nginx> {
  if (!existsSync(NGINX))
    throw new Error(`${NGINX} missing: run scripts/setup.sh --with-go (installs nginx)`);
  const dir = mkdtempSync(join(tmpdir(), 'gost-ts-nginx-'));
  writeFileSync(join(dir, 'site.conf'), site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `error_log ${dir}/error.log info;`,
      `pid ${dir}/nginx.pid;`,
      'events { worker_connections 512; }',
      'http {',
      `  access_log ${dir}/access.log;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`),
      `  include ${dir}/site.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const errorLog = (): string => {
    const p = join(dir, 'error.log');
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      const why = `${stderr}\n${errorLog()}`;
      await stop();
      throw new Error(`nginx did not start on :${port}: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { dir, errorLog, stop };
}
