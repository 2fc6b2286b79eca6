import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of one process as /proc/<pid>/status reports it, in bytes. */
export interface ProcessMemory {
  readonly rssBytes: number;
  /** VmHWM: the process's peak resident set since it started. */
  readonly hwmBytes: number;
}

/**
 * Reads VmRSS and VmHWM out of the text of /proc/<pid>/status (values are in kB there).
 * Undefined when either line is missing (a zombie, or a kernel thread).
 *
 * @example parseProcStatus('VmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n') // { rssBytes: 1048576, hwmBytes: 2097152 }
 */
export function parseProcStatus(text: string): ProcessMemory | undefined {
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(text);
  if (!rss || !hwm) return undefined;
  return { rssBytes: Number(rss[1]) * 1024, hwmBytes: Number(hwm[1]) * 1024 };
}

/**
 * The parent pid out of the text of /proc/<pid>/stat. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so fields are counted after the last `)`.
 *
 * @example parseStatParentPid('42 (node (x)) S 7 42 7 0') // 7
 */
export function parseStatParentPid(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** `root` and every process below it, from a list of (pid, parent pid) pairs. */
export function descendantsOf(root: number, parents: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

/** Every live process's parent, read from /proc. */
function processParents(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    const ppid = stat === undefined ? undefined : parseStatParentPid(stat);
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  return parents;
}

/** The command line of a process, arguments joined by spaces ('' once it has ended). */
export function commandLineOf(pid: number): string {
  return (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
}

/** Memory of one process now; undefined once it has ended. */
export function processMemory(pid: number): ProcessMemory | undefined {
  const status = readProc(`/proc/${pid}/status`);
  return status === undefined ? undefined : parseProcStatus(status);
}

/** Summed resident memory of a process and all its descendants (serverless-offline runs several). */
export function treeMemory(root: number): ProcessMemory & { readonly pids: number } {
  let rssBytes = 0;
  let hwmBytes = 0;
  let pids = 0;
  for (const pid of descendantsOf(root, processParents())) {
    const memory = processMemory(pid);
    if (!memory) continue;
    rssBytes += memory.rssBytes;
    hwmBytes += memory.hwmBytes;
    pids++;
  }
  return { rssBytes, hwmBytes, pids };
}

/**
 * Samples a process tree's resident memory every `intervalMs` and keeps the peak; `onSample`
 * may stop a measurement that grows past a bound. Reading /proc costs ~0.1 ms per process.
 */
export class RssSampler {
  private peakBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly root: number, intervalMs: number, private readonly onSample?: (rssBytes: number) => void) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const { rssBytes } = treeMemory(this.root);
    this.peakBytes = Math.max(this.peakBytes, rssBytes);
    this.onSample?.(rssBytes);
  }

  /** Stops sampling (after one last sample) and returns the peak seen, in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes;
  }
}
