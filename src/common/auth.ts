import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthInfo, Authenticator } from '../core/types.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * An Authenticator over a fixed user list (GOST `auth:` / `user:pass@`). An empty list allows
 * everyone, like GOST without an auther. Comparison is constant-time: every entry is checked, and
 * names and passwords are compared as SHA-256 digests so their lengths do not leak either.
 */
export function createAuthenticator(users: readonly AuthInfo[]): Authenticator {
  const entries = users.map((u) => ({ user: digest(u.username), pass: digest(u.password) }));
  return {
    authenticate(username: string, password: string): boolean {
      if (entries.length === 0) return true;
      const user = digest(username);
      const pass = digest(password);
      let ok = false;
      for (const e of entries) {
        const userOk = timingSafeEqual(e.user, user);
        const passOk = timingSafeEqual(e.pass, pass);
        ok = (userOk && passOk) || ok;
      }
      return ok;
    },
  };
}
