import type { Pool } from '../db/index.js';
import type { Clock } from '../kernel/index.js';
import { postEntries, type EntryInput, type PostOutcome } from './journal.js';

interface Waiting {
  entry: EntryInput;
  actor: string;
  resolve: (o: PostOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for single-entry requests. One commit per request tops out near a few hundred a
 * second (each waits for its own fsync); here concurrent requests share one transaction. Entries
 * stand alone inside it: one bad entry is rejected with its own error and does not fail its
 * neighbours. A request is answered only after the shared transaction has committed.
 */
export class PostingQueue {
  private waiting: Waiting[] = [];
  private running = false;

  constructor(private readonly pool: Pool, private readonly clock: Clock, private readonly max = 500) {}

  submit(entry: EntryInput, actor: string): Promise<PostOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, actor, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length) {
        const group = this.waiting.splice(0, this.max);
        try {
          const out = await postEntries(this.pool, group.map((g) => g.entry), { actor: group[0]!.actor, clock: this.clock }, 'each', { actors: group.map((g) => g.actor), standalone: true });
          group.forEach((g, i) => g.resolve(out[i]!));
        } catch (e) {
          if (group.length === 1) { group[0]!.reject(e); continue; }
          // Something failed for the group as a whole: try each on its own so that only the culprit fails.
          for (const g of group) {
            try {
              const [o] = await postEntries(this.pool, [g.entry], { actor: g.actor, clock: this.clock }, 'each', { standalone: true });
              g.resolve(o!);
            } catch (err) {
              g.reject(err);
            }
          }
        }
      }
    } finally {
      this.running = false;
    }
  }
}
