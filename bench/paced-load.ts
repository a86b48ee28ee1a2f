import http from 'node:http';
import * as hdr from 'hdr-histogram-js';

/**
 * Open-loop load, as wrk2 applies it: request k is sent at start + k / rate whether or not the earlier ones
 * have been answered, over at most `connections` keep-alive sockets. Latency counts from the time a request
 * was due, so a server that falls behind shows its queue (no coordinated omission). autocannon's
 * `overallRate` instead sends each second's quota as fast as it can and then waits, which measures bursts at
 * full concurrency rather than a steady half load. The first `warmupS` seconds of the schedule open the
 * connections and are not counted.
 */
export async function pacedLoad(
  url: string,
  bodies: readonly string[],
  rate: number,
  durationS: number,
  connections: number,
  warmupS = 2,
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencyUs = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const warmup = Math.round(rate * warmupS);
  const total = warmup + Math.round(rate * durationS);
  let answered = 0;
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const send = (body: string, due: number, counted: boolean) =>
    new Promise<void>((done) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (!counted) return done();
            latencyUs.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)));
            if (res.statusCode === 200) answered++;
            else errors++;
            done();
          });
        },
      );
      req.on('error', () => {
        if (counted) errors++;
        done();
      });
      req.end(body);
    });
  const start = performance.now();
  let next = 0;
  while (next < total) {
    // Every request whose time has come goes now; timers are coarse (about 1 ms), the schedule is not.
    const now = performance.now();
    while (next < total && start + (next * 1000) / rate <= now) {
      inFlight.push(send(bodies[next % bodies.length]!, start + (next * 1000) / rate, next >= warmup));
      next++;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + (next * 1000) / rate - performance.now())));
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000 - warmupS;
  agent.destroy();
  const ms = (percentile: number) => Math.round(latencyUs.getValueAtPercentile(percentile) / 100) / 10;
  const result = {
    offeredPerSecond: rate,
    connections,
    answeredPerSecond: Math.round(answered / seconds),
    p50Ms: ms(50),
    p99Ms: ms(99),
    errors,
  };
  latencyUs.destroy();
  return result;
}
