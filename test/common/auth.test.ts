import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthenticator } from '../../src/common/auth.js';

describe('createAuthenticator', () => {
  it('an empty list allows everyone', () => {
    assert.equal(createAuthenticator([]).authenticate('', ''), true);
    assert.equal(createAuthenticator([]).authenticate('x', 'y'), true);
  });
  it('checks user and password pairs', () => {
    const a = createAuthenticator([
      { username: 'alice', password: 'secret' },
      { username: 'bob', password: '' },
    ]);
    assert.equal(a.authenticate('alice', 'secret'), true);
    assert.equal(a.authenticate('bob', ''), true);
    assert.equal(a.authenticate('alice', 'secret2'), false);
    assert.equal(a.authenticate('alice', ''), false);
    assert.equal(a.authenticate('bob', 'secret'), false);
    assert.equal(a.authenticate('', ''), false);
    assert.equal(a.authenticate('Alice', 'secret'), false);
  });
});
