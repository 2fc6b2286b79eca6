import type { BackendSession } from '../../../lib/backends/inference-backend';
import { SessionRetirement } from '../../../lib/models/session-retirement';

function session(): BackendSession & { disposed: number } {
  const s = {
    inputs: [], outputs: [], disposed: 0,
    run: async () => [],
    dispose: async () => {
      s.disposed++;
    },
  };
  return s;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionRetirement', () => {
  const logger = { error: jest.fn() };

  it('disposes at once when no request is in flight', async () => {
    const retirement = new SessionRetirement(logger);
    const old = session();

    await retirement.retire([old]);

    expect(old.disposed).toBe(1);
  });

  it('waits for every request begun before the swap, not for those begun after it', async () => {
    const retirement = new SessionRetirement(logger);
    const old = session();
    const first = retirement.begin();
    const second = retirement.begin();

    const disposed = retirement.retire([old]);
    const after = retirement.begin();
    first();
    await settle();
    const afterFirst = old.disposed;
    second();
    await disposed;

    expect(afterFirst).toBe(0);
    expect(old.disposed).toBe(1);
    expect(retirement.waiting()).toBe(0);
    after();
  });

  it('disposes each swap\'s sessions when the requests before that swap are done, in any finishing order', async () => {
    const retirement = new SessionRetirement(logger);
    const a = session();
    const b = session();
    const early = retirement.begin();
    void retirement.retire([a]);
    const middle = retirement.begin();
    void retirement.retire([b]);

    middle();
    await settle();
    const afterMiddle = [a.disposed, b.disposed];
    early();
    await settle();

    expect(afterMiddle).toEqual([0, 0]);
    expect([a.disposed, b.disposed]).toEqual([1, 1]);
  });

  it('counts a finish function once however often it is called', async () => {
    const retirement = new SessionRetirement(logger);
    const old = session();
    const first = retirement.begin();
    const second = retirement.begin();
    void retirement.retire([old]);

    first();
    first();
    await settle();

    expect(old.disposed).toBe(0);
    second();
    await settle();
    expect(old.disposed).toBe(1);
  });

  it('disposes everything still waiting on disposeAll, and logs a dispose that fails instead of throwing', async () => {
    const retirement = new SessionRetirement(logger);
    const held = session();
    const failing = { ...session(), dispose: () => Promise.reject(new Error('already gone')) };
    retirement.begin();
    void retirement.retire([held, failing]);

    await retirement.disposeAll();

    expect(held.disposed).toBe(1);
    expect(retirement.waiting()).toBe(0);
    expect(logger.error).toHaveBeenCalledWith('a replaced model session failed to dispose', { error: new Error('already gone') });
  });
});
