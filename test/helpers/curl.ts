import { execFile } from 'node:child_process';

/** Runs curl with a bounded time; resolves with exit code, body and stderr (never rejects). */
export function curl(
  args: string[],
  timeoutSec = 10,
): Promise<{ code: number; body: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '-m', String(timeoutSec), ...args],
      { encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code =
          err === null
            ? 0
            : typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1;
        resolve({ code, body: stdout, stderr });
      },
    );
  });
}
