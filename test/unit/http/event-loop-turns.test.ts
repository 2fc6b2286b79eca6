import { createEventLoopTurns } from '../../../lib/server/event-loop-turns';

describe('createEventLoopTurns', () => {
  it('gives turns in arrival order, one per event-loop iteration, with I/O callbacks between them', async () => {
    // Prepare
    const nextTurn = createEventLoopTurns();
    const events: string[] = [];
    let iteration = 0;
    let counting = true;
    const tick = () => {
      iteration++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);

    // Act
    const turns = [0, 1, 2, 3].map((i) => nextTurn().then(() => events.push(`turn ${i} at iteration ${iteration}`)));
    await Promise.all(turns);
    counting = false;

    // Assess: in order, and never two in one iteration.
    expect(events.map((e) => e.split(' at ')[0])).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3']);
    const iterations = events.map((e) => Number(e.split('iteration ')[1]));
    for (let i = 1; i < iterations.length; i++) expect(iterations[i]).toBeGreaterThan(iterations[i - 1]!);
  });

  it('lets a timer or socket callback in between two turns', async () => {
    // Prepare
    const nextTurn = createEventLoopTurns();
    const order: string[] = [];

    // Act
    const first = nextTurn().then(() => {
      order.push('turn 1');
      setTimeout(() => order.push('timer'), 0);
    });
    const second = nextTurn().then(() => order.push('turn 2'));
    await Promise.all([first, second]);
    await new Promise((r) => setTimeout(r, 5));

    // Assess: the second turn waits for a new iteration; a 0 ms timer may run before it.
    expect(order[0]).toBe('turn 1');
    expect(order).toContain('turn 2');
  });
});
