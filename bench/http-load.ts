/**
 * The HTTP load generator, run as its own process (forked by run.ts) so that the clients do not
 * share the server's event loop. `concurrency` clients, each on its own keep-alive connection,
 * POST single entries one at a time (the next request only after the previous response) until
 * every body is sent or `capMs` has passed; it reports status counts and latencies over IPC.
 *
 * The client speaks HTTP/1.1 on raw sockets with the requests prepared in advance: the machine
 * is small and a full HTTP client would take CPU that the server under test needs.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadJob {
  port: number;
  token: string;
  concurrency: number;
  capMs: number;
  /** Request bodies (JSON), one per request, made before the clock starts. */
  bodies: string[];
}

export interface LoadResult {
  sent: number;
  status: Record<string, number>;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** CPU time of this load process (user + system). */
  cpuMs: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

const pct = (s: number[], p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN);

async function run(job: LoadJob): Promise<LoadResult> {
  const requests = job.bodies.map((b) => Buffer.from(
    `POST /api/ledger/entries HTTP/1.1\r\nHost: 127.0.0.1:${job.port}\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer ${job.token}\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`));
  const status: Record<string, number> = {};
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + job.capMs;

  const client = () => new Promise<void>((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: job.port, noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    let done = false;
    const finish = () => { if (!done) { done = true; sock.destroy(); resolve(); } };
    const send = () => {
      if (next >= requests.length || performance.now() >= deadline) return finish();
      sentAt = performance.now();
      sock.write(requests[next++]!);
    };
    sock.on('connect', send);
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const code = head.slice(9, 12);
        if (code !== '201' && !firstError) firstError = `${code}: ${buf.subarray(end + 4, end + 4 + len).toString('utf8').slice(0, 300)}`;
        buf = buf.subarray(end + 4 + len);
        status[code] = (status[code] ?? 0) + 1;
        lat.push(performance.now() - sentAt);
        send();
      }
    });
    sock.on('error', (e) => { errors++; firstError ??= String(e); finish(); });
    sock.on('close', finish);
  });
  await Promise.all(Array.from({ length: job.concurrency }, client));
  const elapsedMs = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const cpu = process.cpuUsage(c0);
  return {
    sent: next, status, errors, firstError, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000,
    latencyMs: { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: lat[lat.length - 1] ?? NaN },
  };
}

if (process.send) {
  process.once('message', (job: LoadJob) => {
    run(job).then(
      (r) => process.send!(r, () => process.exit(0)),
      (e) => { console.error(e); process.exit(1); },
    );
  });
}
