// Headless Chromium from Debian (/usr/bin/chromium, installed by scripts/setup.sh) driven by
// playwright-core, which never downloads a browser of its own; and a page server on localhost that
// serves the package's dist/browser as a browser would fetch it.
import http from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';

export interface HeadlessBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Debian's Chromium headless with a fresh profile; throws when it is not installed. */
export async function launchChromium(): Promise<HeadlessBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} missing: run scripts/setup.sh --with-go (installs chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'gost-ts-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const browser = context.browser() as Browser;
  return {
    browser,
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

/**
 * An http.Server on 127.0.0.1 that serves the test page at `/` (its script: test/browser/page.js)
 * and the package's built browser module under `/gost-ts/browser/`.
 */
export async function pageServer(): Promise<{ server: http.Server; origin: string }> {
  const dist = resolve(repoRoot, 'dist', 'browser');
  if (!existsSync(join(dist, 'index.js')))
    throw new Error(`${dist}/index.js missing: run "npm run build" first`);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0] ?? '/';
    let file: string | undefined;
    if (url === '/') {
      res.writeHead(200, { 'content-type': TYPES['.html'] });
      res.end('<!doctype html><title>gost-ts</title><script type="module" src="/page.js"></script>');
      return;
    }
    if (url === '/page.js') file = resolve(repoRoot, 'test', 'browser', 'page.js');
    else if (url.startsWith('/gost-ts/browser/')) {
      const rel = normalize(url.slice('/gost-ts/browser/'.length));
      if (!rel.startsWith('..')) file = join(dist, rel);
    }
    if (file === undefined || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream',
    });
    res.end(readFileSync(file));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}
