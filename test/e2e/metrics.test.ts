import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, freePort } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { webOrigin } from '../helpers/origins.js';

test('-metrics serves GOST-named Prometheus metrics that follow the traffic', async (t) => {
  const web = await webOrigin();
  const serverPort = await freePort();
  const clientPort = await freePort();
  const serverMetrics = await freePort();
  const clientMetrics = await freePort();
  const server = await startCli([
    '-L',
    `http+mws://127.0.0.1:${serverPort}?path=/ws`,
    '-metrics',
    `127.0.0.1:${serverMetrics}`,
  ]);
  const client = await startCli([
    '-L',
    `127.0.0.1:${clientPort}`,
    '-F',
    `http+mws://127.0.0.1:${serverPort}?path=/ws`,
    '-metrics',
    `127.0.0.1:${clientMetrics}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), web.close()));
  for (let i = 0; i < 3; i++) {
    const r = await curl(['-x', `http://127.0.0.1:${clientPort}`, `${web.url}m${i}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  const c = (await curl([`http://127.0.0.1:${clientMetrics}/metrics`])).body;
  assert.match(c, /gost_service_requests_total\{service="service-0"\} 3/);
  assert.match(c, /gost_mws_sessions\{side="client"\} 1/);
  assert.match(c, /gost_service_transfer_output_bytes_total\{service="service-0"\} [1-9]/);
  const s = (await curl([`http://127.0.0.1:${serverMetrics}/metrics`])).body;
  assert.match(
    s,
    /gost_service_requests_total\{service="service-0"\} 3/,
    'each proxied connection is one stream on the server',
  );
  assert.match(s, /gost_mws_sessions\{side="server"\} 1/);
  assert.match(s, /process_resident_memory_bytes/);
  const missing = await curl([
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `http://127.0.0.1:${serverMetrics}/other`,
  ]);
  assert.equal(missing.body, '404');
});
