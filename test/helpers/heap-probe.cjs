// Preloaded (`node --require`) into a gost-ts process under an endurance test, through
// NODE_OPTIONS. It changes nothing until the process gets SIGUSR2; then it collects garbage (a full
// GC, then another once finalization callbacks have had their turn) and prints one stderr line
// `heap-probe <n> <json>` with the heap used after that GC, RSS, open descriptors and the active
// libuv handles/requests by type. gost-ts itself does not handle SIGUSR2.
'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');
const fs = require('node:fs');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
let n = 0;

function report() {
  n += 1;
  const mem = process.memoryUsage();
  const resources = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  // V8's compiled code (code spaces) grows as functions get optimized: warm-up, not data kept.
  let codeUsed = 0;
  for (const sp of v8.getHeapSpaceStatistics())
    if (sp.space_name.startsWith('code_')) codeUsed += sp.space_used_size;
  const line = {
    heapUsed: mem.heapUsed,
    codeUsed,
    // V8's own count of compiled code and bytecode with their metadata (deoptimization data,
    // relocation info, source positions), most of which lives outside the code spaces.
    jitUsed: (() => {
      const c = v8.getHeapCodeStatistics();
      return c.code_and_metadata_size + c.bytecode_and_metadata_size;
    })(),
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    rss: mem.rss,
    fds: fs.readdirSync('/proc/self/fd').length,
    resources,
  };
  process.stderr.write(`heap-probe ${n} ${JSON.stringify(line)}\n`);
}

// A FinalizationRegistry's callbacks run in a task after the collection that found their targets
// dead, and what they hold stays in the heap until then (AbortSignal.timeout keeps its Timeout
// that way): collect, let those tasks run, collect again.
const pause = () => new Promise((resolve) => setTimeout(resolve, 50));
process.on('SIGUSR2', () => {
  gc();
  void pause()
    .then(() => {
      gc();
      return pause();
    })
    .then(() => {
      gc();
      // gost-ts returns memory freed by a full GC to the system at most once a second
      // (src/runtime/allocator-trim.ts): read RSS once that has had its turn.
      return new Promise((resolve) => setTimeout(resolve, 1100));
    })
    .then(report);
});
