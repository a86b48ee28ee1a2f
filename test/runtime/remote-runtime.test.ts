import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { GatewayErrorCode, type GatewayError } from '../../src/platform/errors.js';
import { RemoteRuntime } from '../../src/runtime/remote-runtime.js';

describe('RemoteRuntime against a server that accepts connections but never answers', () => {
  it('times out each attempt, then opens its circuit: MODEL_UNAVAILABLE, never a hang', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket)).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const runtime = new RemoteRuntime(
        'slow',
        {
          url: `http://127.0.0.1:${port}`,
          model: 'm',
          timeoutMs: 200,
          retries: 1,
          failureThreshold: 1,
          halfOpenAfterMs: 60_000,
        },
        { kind: 'text' },
      );
      const started = performance.now();
      await assert.rejects(
        runtime.run(['x']),
        (e: GatewayError) => e.code === GatewayErrorCode.MODEL_UNAVAILABLE && /no answer within 200 ms/.test(e.message),
      );
      assert.ok(performance.now() - started < 2000, 'two attempts of 200 ms and a short backoff');
      const fast = performance.now();
      await assert.rejects(runtime.run(['x']), /circuit is open after repeated failures/);
      assert.ok(performance.now() - fast < 100, 'an open circuit fails at once');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
