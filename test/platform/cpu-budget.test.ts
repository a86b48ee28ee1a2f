import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/platform/config.js';
import { logCpuBudget } from '../../src/platform/cpu-budget.js';

/** A logger whose lines are kept, parsed. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('logCpuBudget', () => {
  it('logs the division at info when the shares fit the budget', () => {
    const { logger, lines } = recordingLogger();
    logCpuBudget(loadConfig({ CPU_BUDGET: '16', MODEL_WORKERS: '2' }).cpu, logger);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 30);
    assert.deepEqual(lines[0]!.shares, { inference: 8, tabular: 4, volatility: 4 });
    assert.equal(lines[0]!.total, 16);
    assert.match(
      String(lines[0]!.msg),
      /CPU budget of 16 threads: inference 4 x 2 per transformer model, tabular 4 per model, volatility pool 4/,
    );
  });

  it('warns when shares that are set add up to more than the budget (one thread each below 3 is not a warning)', () => {
    const { logger, lines } = recordingLogger();
    logCpuBudget(loadConfig({ CPU_BUDGET: '4', INFERENCE_THREADS: '4' }).cpu, logger);
    logCpuBudget(loadConfig({ CPU_BUDGET: '1' }).cpu, logger);
    assert.deepEqual(
      lines.map((l) => l.level),
      [40, 30],
    );
    assert.match(String(lines[0]!.msg), /the shares add up to 6 threads, more than CPU_BUDGET \(4\)/);
  });
});
