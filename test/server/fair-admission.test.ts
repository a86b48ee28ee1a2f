import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { GatewayMetrics } from '../../src/platform/metrics.js';
import { SchedulingMetrics } from '../../src/platform/scheduling-metrics.js';
import { FairInFlightLimit } from '../../src/server/fair-admission.js';

describe('FairInFlightLimit', () => {
  const response = () => new ServerResponse(new IncomingMessage(new Socket()));
  const refusals = async (metrics: GatewayMetrics) =>
    Object.fromEntries(
      [
        ...(await metrics.registry.metrics()).matchAll(/^gateway_inflight_refusals_total\{priority="(\w+)"\} (\d+)$/gm),
      ].map((m) => [m[1], Number(m[2])]),
    );

  it('counts its refusals per priority, each series there from the start', async () => {
    const metrics = new GatewayMetrics();
    const limit = new FairInFlightLimit(2, metrics, new SchedulingMetrics(metrics.registry));
    assert.deepEqual(await refusals(metrics), { high: 0, normal: 0, low: 0 });
    const bulk = [response(), response()];
    for (const res of bulk) assert.equal(limit.enter(res, 'key:bulk', 'low'), undefined);
    assert.equal(
      limit.enter(response(), 'key:bulk', 'low')?.body.errors[0]?.extensions.code,
      'OVERLOADED',
      'bulk holds its share of a full gateway',
    );
    assert.equal(limit.enter(response(), 'key:desk', 'high'), undefined, 'a high-priority caller below its share');
    assert.equal(limit.enter(response(), 'key:desk', 'high'), undefined, 'share of desk: 2 × 4 / 5');
    assert.equal(limit.enter(response(), 'key:desk', 'normal')?.status, 503, 'desk at 2 of 2 × 2 / 3');
    assert.equal(limit.enter(response(), 'key:bulk', 'low')?.status, 503);
    assert.deepEqual(await refusals(metrics), { high: 0, normal: 1, low: 2 });
    for (const res of bulk) res.emit('close');
    assert.equal(limit.active, 2);
    assert.equal(limit.enter(response(), 'key:bulk', 'low'), undefined, 'slots freed: admitted again');
    assert.deepEqual(await refusals(metrics), { high: 0, normal: 1, low: 2 });
  });
});
