import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from '../bench-results';

const HEADING = '## Serving';

/** `lscpu`'s model name and the core count, as BENCHMARKS.md names the machine. */
export function machineLine(): string {
  let model = cpus()[0]?.model.trim() ?? 'unknown cpu';
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'));
    if (line) model = line.slice('Model name:'.length).trim();
  } catch {
    // no lscpu: keep Node's name for the CPU
  }
  return `${model}, ${cpus().length} cores, node ${process.versions.node}`;
}

export function loadLine(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' / ');
}

function cell(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

function table(rows: readonly BenchResult[]): string {
  const lines = ['| case | metric | ours | anchor | ratio | target | met |', '| --- | --- | ---: | ---: | ---: | ---: | --- |'];
  for (const r of rows) {
    const target = r.target_ratio === undefined ? '' : `≤ ${r.target_ratio}`;
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(`| ${r.case} | ${r.metric} | ${cell(r.value)} | ${cell(r.anchor_value)} | ${cell(r.ratio)} | ${target} | ${met} |`);
  }
  return lines.join('\n');
}

export interface ServingSection {
  readonly date: string;
  readonly loadAtStart: string;
  readonly overhead: readonly BenchResult[];
  readonly decode: readonly BenchResult[];
  readonly http: readonly BenchResult[];
  /** Paragraphs explaining the unmet targets and the gaps, from this run's figures. */
  readonly findings: readonly string[];
}

/** Replaces (or appends) the `## Serving` section of BENCHMARKS.md; other sections are left as they are. */
export function writeServingSection(repoRoot: string, section: ServingSection): string {
  const body = [
    HEADING,
    '',
    'Command: `npm run bench:serve` (needs `npm run build` once: the models layer, the runtime layer and the function bundle; it rebuilds the bundle incrementally). '
      + 'Results: `bench/results/serve.json`.',
    '',
    `Machine: ${machineLine()}; load average at start ${section.loadAtStart}. Date: ${section.date}. `
      + 'All figures in ms; p50/p99 are nearest-rank percentiles after a warm-up; ratio is ours over the anchor, measured in the same run.',
    '',
    '### Handler overhead (in-process, full middy chain vs session.run on the same inputs)',
    '',
    'Every model on onnxruntime-web (HOTPATH_WASM_MODELS=*), and the rows ending `/kernel` on the model\'s kernel plan as deployed; each session\'s route is checked. '
      + 'Handler and `session.run` calls alternate in one loop so load from neighbours hits both alike. Targets: p50 ratio ≤ 1.10 for `mlp-medium` at batch 32, added p50 ≤ 0.3 ms for `iris-classifier` at batch 1.',
    '',
    table(section.overhead),
    '',
    '### Tensor decode (1M FP32 elements, `decodeInferRequest` on prepared bodies)',
    '',
    'Target: binary at least 20× faster than JSON (ratio ≤ 0.05).',
    '',
    table(section.decode),
    '',
    '### Warm latency over HTTP (`npm start`: serverless-offline on 127.0.0.1, one keep-alive client)',
    '',
    'No target: the ratio and the gap show what the emulator, the loopback client and our path add to `session.run`. '
      + '`session.run` alternates with the HTTP calls in the bench process (same model, same inputs), so it runs on caches the server has just used: '
      + 'slower than in the tight loop above for the smallest models. The server loads the default ONNX models and the benchmark MLPs '
      + '(HOTPATH_MODELS), all on onnxruntime-web (HOTPATH_WASM_MODELS=*, checked in each model\'s metadata), one WASM thread.',
    '',
    table(section.http),
    '',
    '### Findings',
    '',
    ...section.findings.flatMap((f) => [f, '']),
  ].join('\n');
  return replaceBenchmarksSection(repoRoot, HEADING, body);
}

/** Replaces (or appends) the section under `heading` (`## ...`, up to the next `## `) of BENCHMARKS.md with `body`, which starts with that heading. */
export function replaceBenchmarksSection(repoRoot: string, heading: string, body: string): string {
  const path = join(repoRoot, 'BENCHMARKS.md');
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\n';
  const start = existing.indexOf(`\n${heading}\n`) >= 0 ? existing.indexOf(`\n${heading}\n`) + 1 : existing.startsWith(`${heading}\n`) ? 0 : -1;
  let next: string;
  if (start < 0) {
    next = `${existing.replace(/\n*$/, '\n\n')}${body}`;
  } else {
    const after = existing.indexOf('\n## ', start + heading.length);
    next = existing.slice(0, start) + body + (after < 0 ? '' : `\n${existing.slice(after + 1)}`);
  }
  writeFileSync(path, `${next.replace(/\n*$/, '')}\n`);
  return path;
}
