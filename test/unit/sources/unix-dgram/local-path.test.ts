import assert from 'node:assert/strict';
import { test } from 'node:test';
import { socketPathOf } from '../../../../src/sources/unix-dgram/local-path.js';

const ref = { who: 'unix-stream source "log"', key: 'listen' };

test('socketPathOf: the path of a listen address of the right kind', () => {
  assert.equal(socketPathOf('unix+dgram:/dev/log', 'unix+dgram', ref), '/dev/log');
  assert.equal(socketPathOf('unix+stream:/run/logship/log.sock', 'unix+stream', ref), '/run/logship/log.sock');
});

test('socketPathOf: another kind is LS_STARTUP naming the source and the key', () => {
  assert.throws(() => socketPathOf('unix+dgram:/dev/log', 'unix+stream', ref), {
    code: 'LS_STARTUP',
    message: 'unix-stream source "log": listen "unix+dgram:/dev/log" is not unix+stream:PATH',
  });
  assert.throws(() => socketPathOf('tcp:127.0.0.1:514', 'unix+dgram', ref), { code: 'LS_STARTUP', message: /is not unix\+dgram:PATH$/ });
});
