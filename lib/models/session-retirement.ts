import type { BackendSession } from '../backends/inference-backend';

type DisposeLogger = { error(message: string, ...extra: Record<string, unknown>[]): void };

interface Retired {
  /** Requests that began in an epoch before this one may still hold the sessions. */
  readonly epoch: number;
  readonly sessions: readonly BackendSession[];
  readonly disposed: () => void;
}

/**
 * Disposes the sessions a registry swap took out of service once no request can still be using
 * them. Epochs, not a count per session: a request marks itself in flight (`begin`) before it
 * reads the registry, and each swap opens a new epoch; sessions retired at a swap are disposed
 * when every request begun before it has finished. Whatever a request does with the entry it
 * found (the router's fallback run, a batcher's queued run) it does before it finishes, so no
 * session is disposed under a run, and no request pays for more than a counter.
 *
 * @example
 * const finish = retirement.begin();        // the door, before routing
 * try { await serve(request); } finally { finish(); }
 * registry = next; retirement.retire(removedSessions); // the swap, in the same tick
 */
export class SessionRetirement {
  private epoch = 0;
  /** Requests in flight, by the epoch they began in. */
  private readonly inflight = new Map<number, number>();
  private pending: Retired[] = [];

  constructor(private readonly logger: DisposeLogger) {}

  /** Marks one request in flight; call the returned function once when it has finished (a second call does nothing). */
  begin(): () => void {
    const epoch = this.epoch;
    this.inflight.set(epoch, (this.inflight.get(epoch) ?? 0) + 1);
    let finished = false;
    return () => {
      if (finished) return;
      finished = true;
      const left = this.inflight.get(epoch)! - 1;
      if (left === 0) this.inflight.delete(epoch);
      else this.inflight.set(epoch, left);
      if (this.pending.length > 0) this.sweep();
    };
  }

  /**
   * Call in the same tick as the swap that took `sessions` out of the registry. Resolves once
   * they are disposed: at once when no request is in flight, else when the last request begun
   * before this call has finished.
   */
  retire(sessions: readonly BackendSession[]): Promise<void> {
    this.epoch++;
    if (sessions.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.pending.push({ epoch: this.epoch, sessions, disposed: resolve });
      this.sweep();
    });
  }

  /** Sessions retired and not yet disposed (waiting for requests). */
  waiting(): number {
    return this.pending.reduce((n, r) => n + r.sessions.length, 0);
  }

  /** Disposes every retired session now, in use or not: for the server's close, after its drain. */
  async disposeAll(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    await Promise.all(all.map((retired) => this.dispose(retired)));
  }

  private sweep(): void {
    let oldest = Infinity;
    for (const epoch of this.inflight.keys()) oldest = Math.min(oldest, epoch);
    const due = this.pending.filter((r) => oldest >= r.epoch);
    if (due.length === 0) return;
    this.pending = this.pending.filter((r) => oldest < r.epoch);
    for (const retired of due) void this.dispose(retired);
  }

  private async dispose(retired: Retired): Promise<void> {
    for (const session of retired.sessions) {
      // A session that fails to dispose is logged, never thrown at the request that happened to finish last.
      await session.dispose().catch((error: unknown) => this.logger.error('a replaced model session failed to dispose', { error }));
    }
    retired.disposed();
  }
}
