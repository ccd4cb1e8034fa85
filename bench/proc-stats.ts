/** CPU time and resident memory of a process, read from Linux /proc. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of the utime/stime fields (`getconf CLK_TCK`, almost always 100). */
const CLK_TCK = ((): number => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds the process has used so far (/proc/<pid>/stat utime + stime). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: fields restart after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0], so utime (14) and stime (15) are fields[11] and fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot parse /proc/${String(pid)}/stat`);
  }
  return (utime + stime) / CLK_TCK;
}

/** Resident set size in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (m?.[1] === undefined) throw new Error(`no VmRSS in /proc/${String(pid)}/status`);
  return Number(m[1]) * 1024;
}
