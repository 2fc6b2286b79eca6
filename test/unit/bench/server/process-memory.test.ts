import { descendantsOf, parseProcStatus, parseStatParentPid, processMemory, treeMemory } from '../../../../bench/server/process-memory';

const STATUS = [
  'Name:\tnode',
  'PPid:\t7575',
  'VmPeak:\t 3060 kB',
  'VmHWM:\t  262144 kB',
  'VmRSS:\t  131072 kB',
  'VmSwap:\t       0 kB',
  '',
].join('\n');

describe('parseProcStatus', () => {
  it('reads VmRSS and VmHWM in bytes when both lines are there', () => {
    expect(parseProcStatus(STATUS)).toEqual({ rssBytes: 131072 * 1024, hwmBytes: 262144 * 1024 });
  });

  it('returns undefined when the memory lines are missing (a zombie or a kernel thread)', () => {
    expect(parseProcStatus('Name:\tkworker\nPPid:\t2\n')).toBeUndefined();
    expect(parseProcStatus('VmRSS:\t  1 kB\n')).toBeUndefined();
  });

  it('does not take VmRSS from another line that merely contains it', () => {
    expect(parseProcStatus('XVmRSS:\t 5 kB\nVmHWM:\t 2 kB\nVmRSS:\t 1 kB\n')).toEqual({ rssBytes: 1024, hwmBytes: 2048 });
  });
});

describe('parseStatParentPid', () => {
  it('reads the parent pid after the command name', () => {
    expect(parseStatParentPid('7579 (cat) R 7575 7575 4245 0 -1 4194304')).toBe(7575);
  });

  it('counts fields after the last parenthesis when the command name holds spaces and parentheses', () => {
    expect(parseStatParentPid('42 (node (worker) x) S 7 42 7 0')).toBe(7);
  });

  it('returns undefined for text that is not a stat line', () => {
    expect(parseStatParentPid('garbage')).toBeUndefined();
  });
});

describe('descendantsOf', () => {
  it('lists the root and every process below it, and nothing else', () => {
    const parents = new Map([[10, 1], [11, 10], [12, 11], [13, 10], [20, 1], [21, 20]]);
    expect(descendantsOf(10, parents).sort((a, b) => a - b)).toEqual([10, 11, 12, 13]);
  });

  it('lists only the root when it has no children', () => {
    expect(descendantsOf(99, new Map([[10, 1]]))).toEqual([99]);
  });
});

describe('treeMemory', () => {
  it('sums at least this process when called on its own pid', () => {
    const own = processMemory(process.pid)!;
    const tree = treeMemory(process.pid);
    expect(tree.pids).toBeGreaterThanOrEqual(1);
    expect(tree.rssBytes).toBeGreaterThanOrEqual(own.rssBytes * 0.5);
  });
});
