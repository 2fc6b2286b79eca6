/**
 * Gate policy lab: ungated Silero over `--minutes` of the bench's dialog audio, then gated policies
 * simulated frame by frame (same frames, same segmenter), each compared to the ungated segments.
 * POLICIES is a comma list of name:preroll:hangover[:marginDb[:flags]]; hangover -1 never skips.
 * Flags: r resets the state at reopen; x extrapolates the cell state from the preroll's last step;
 * d from the last run frame's change (SPAN frames averaged); e from an exponential average (ALPHA)
 * of its change over the quiet frames that ran (the detector's policy); P scales the cell state by
 * PERTURB_SCALE at frame PERTURB_AT. ZERO_EVERY=N zeroes the state (ZPART h, c or hc) every N frames;
 * DUMP=k prints the frames around k unmatched segments; REOPEN=k the state error at k reopenings;
 * DELTA_STATS=1 the cell units' change per noise frame ungated.
 * @example POLICIES=p16:16:0,e4h8:4:8::e npx tsx bench/stream/gate-lab.ts --minutes 10
 * @example ZERO_EVERY=300 POLICIES=ungated-reset:0:-1 npx tsx bench/stream/gate-lab.ts --minutes 10
 */
import { loadServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { frameFeatures } from '../../kernels/audio/audio-kernels';
import { meanSquareToDbfs } from '../../kernels/audio/speech-state-machine';
import { sileroStep } from '../../lib/streaming/voice-activity-detector';
import { SileroSegmenter, type SegmentEvent } from '../../lib/streaming/silero-segmenter';
import { NoiseFloorGate } from '../../lib/streaming/noise-floor-gate';
import { dialogAudio } from './dialog-audio';

const args = process.argv.slice(2);
const opt = (n: string, f: number) => (args.indexOf(`--${n}`) >= 0 ? Number(args[args.indexOf(`--${n}`) + 1]) : f);
const MIN = opt('minutes', 5);
const quiet = { info() {}, warn() {}, error() {} };

function segs(events: SegmentEvent[]): [number, number][] {
  const s = events.filter((e) => e.event === 'start'), e = events.filter((x) => x.event === 'end');
  return e.map((x, i) => [s[i]!.sample, x.sample]);
}
/** One-to-one: a reference segment matches an other segment with start and end each within tol samples. */
function match(ref: [number, number][], oth: [number, number][], tol = 480) {
  let j = 0, matched = 0;
  for (const [s, e] of ref) {
    while (j < oth.length && oth[j]![0] < s - tol) j++;
    if (j < oth.length && Math.abs(oth[j]![0] - s) <= tol && Math.abs(oth[j]![1] - e) <= tol) { matched++; j++; }
  }
  return { ref: ref.length, oth: oth.length, matched, unmatchedRef: ref.length - matched, unmatchedOth: oth.length - matched };
}

async function main() {
  const audio = dialogAudio(MIN * 60);
  const x = Float32Array.from(audio.pcm, (v) => v / 32768);
  const F = 512, C = 64;
  const n = Math.floor(x.length / F);
  const windows: Float32Array[] = [];
  for (let i = 0; i < n; i++) { const w = new Float32Array(F + C); if (i > 0) w.set(x.subarray(i * F - C, i * F), 0); w.set(x.subarray(i * F, i * F + F), C); windows.push(w); }
  const ms = frameFeatures(x.subarray(0, n * F), F, F).meanSquare;
  const rt = await createServingRuntime(loadServingConfig(process.env, { models: ['silero-vad'], wasmThreads: 1 }), quiet);
  const step = sileroStep(rt.registry.findReady('silero-vad').state.session, 16000);
  // ungated
  let state: Float32Array = new Float32Array(256);
  const pu = new Float32Array(n);
  const su: Float32Array[] = [];
  const seg = new SileroSegmenter(16000, F);
  const evU: SegmentEvent[] = [];
  const trigU = new Uint8Array(n);
  for (let i = 0; i < n; i++) { const r = await step(windows[i]!, state); pu[i] = r.probability; state = r.state; su.push(state); seg.frame(r.probability, (i + 1) * F, evU); trigU[i] = seg.inSpeech ? 1 : 0; }
  seg.finish(n * F, evU);
  const U = segs(evU);
  if (process.env.STATE_TRACE) for (let i = 0; i < n; i += Math.floor(n / 30)) { const a = su[i]!; let h = 0, c = 0; for (let k = 0; k < 128; k++) { h = Math.max(h, Math.abs(a[k]!)); c = Math.max(c, Math.abs(a[128 + k]!)); } console.log(`frame ${i} t=${(i * 0.032).toFixed(1)}s p=${pu[i]!.toFixed(3)} trig=${trigU[i]} |h|max ${h.toFixed(3)} |c|max ${c.toFixed(1)}`); }
  // energy vs floor, under the default gate
  const g0 = new NoiseFloorGate(F / 16000);
  let under = 0, underInU = 0, inU = 0;
  for (let i = 0; i < n; i++) { const q = g0.skips(ms[i]!, trigU[i - 1] === 1); if (q) under++; if (trigU[i]) { inU++; if (q) underInU++; } }
  console.log(`${MIN} min, ${n} frames, ${U.length} ungated segments; under the gate: ${(100 * under / n).toFixed(1)} % of frames, ${(100 * underInU / inU).toFixed(1)} % of the frames inside ungated segments`);
  if (process.env.DELTA_STATS) {
    const g1 = new NoiseFloorGate(F / 16000); const sum = new Float64Array(128), sq = new Float64Array(128); let cnt = 0; const early = new Float64Array(128), late = new Float64Array(128); let ce = 0, cl = 0;
    for (let i = 1; i < n; i++) { const q = g1.skips(ms[i]!, trigU[i - 1] === 1); if (!q || trigU[i] || trigU[i - 1]) continue; cnt++; for (let k = 0; k < 128; k++) { const d = su[i]![128 + k]! - su[i - 1]![128 + k]!; sum[k] += d; sq[k] += d * d; if (i < n / 2) early[k] += d; else late[k] += d; } if (i < n / 2) ce++; else cl++; }
    const rows = [...Array(128).keys()].map((k) => ({ k, mean: sum[k]! / cnt, sd: Math.sqrt(sq[k]! / cnt - (sum[k]! / cnt) ** 2), e: early[k]! / ce, l: late[k]! / cl, c: su[n - 1]![128 + k]! }));
    rows.sort((a, b) => Math.abs(b.mean) - Math.abs(a.mean));
    console.log(`noise frames ${cnt}`); for (const r of rows.slice(0, 12).concat(rows.slice(60, 66))) console.log(`unit ${r.k} mean ${r.mean.toFixed(4)} sd ${r.sd.toFixed(4)} early ${r.e.toFixed(4)} late ${r.l.toFixed(4)} c_end ${r.c.toFixed(1)}`);
    const big = rows.filter((r) => Math.abs(r.c) > 50).length; console.log(`units with |c_end| > 50: ${big}`);
  }
  const dist = (a: Float32Array, b: Float32Array) => { let d = 0; for (let k = 0; k < 128; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!), Math.abs(Math.tanh(a[128 + k]!) - Math.tanh(b[128 + k]!))); return d; };

  interface Policy { name: string; preroll: number; hangFrames: number; marginDb?: number; openDb?: number; reset?: boolean; extrapolate?: boolean; deltaBefore?: boolean; ema?: boolean; perturbAt?: number; perturbScale?: number }
  async function sim(p: Policy) {
    const gate = new NoiseFloorGate(F / 16000, p.marginDb !== undefined ? { marginDb: p.marginDb } : {});
    if (p.hangFrames < 0) p.hangFrames = 1e9;
    const sg = new SileroSegmenter(16000, F);
    const ev: SegmentEvent[] = [];
    let st: Float32Array = new Float32Array(256); let calls = 0, run = 0, hang = 0; let last = st; let delta = new Float32Array(256); const hist: Float32Array[] = []; const rate = new Float32Array(256), ALPHA = Number(process.env.ALPHA ?? 0.1); const SPAN = Number(process.env.SPAN ?? 1), SAT = Number(process.env.SAT ?? 0);
    let maxDp = 0, dpBig = 0, ranCompared = 0; const sd: number[] = [];
    let endedAt = -1; const reopen: string[] = []; const pg = new Float32Array(n).fill(-1); const fl = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const inSpeech = sg.inSpeech;
      const quiet = gate.skips(ms[i]!, inSpeech);
      if (!quiet || inSpeech) hang = p.hangFrames;
      const skip = quiet && !inSpeech && hang <= 0;
      if (!(quiet && !inSpeech)) {} else hang--;
      let prob = 0;
      if (skip) { if (run === 0 && p.ema) delta = rate.slice(); else if (run === 0) { delta = new Float32Array(256); const old = hist[0]!; const span = hist.length - 1; for (let k = 128; k < 256; k++) delta[k] = span > 0 && Math.abs(st[k]!) >= SAT ? (st[k]! - old[k]!) / span : 0; } run++; }
      else {
        if (run > 0) {
          if (p.reset) st = new Float32Array(256);
          if (p.deltaBefore) { const ahead = Math.max(0, run - p.preroll); st = st.slice(); for (let k = 128; k < 256; k++) st[k] = st[k]! + ahead * delta[k]!; }
          let prev = st; hist.length = 0;
          for (let k = Math.max(i - Math.min(run, p.preroll), 0); k < i; k++) { calls++; prev = st; st = (await step(windows[k]!, st)).state; }
          if (p.extrapolate && run > p.preroll && p.preroll >= 1) { const rest = run - p.preroll; st = st.slice(); for (let k = 128; k < 256; k++) st[k] = st[k]! + rest * (st[k]! - prev[k]!); }
          run = 0;
        }
        calls++;
        if (process.env.REOPEN && i > 0 && pg[i - 1] === -1) {
          const u = su[i - 1]!; let dc = 0, bad = 0, dh = 0, cu = 0;
          for (let k = 0; k < 128; k++) { dh = Math.max(dh, Math.abs(st[k]! - u[k]!)); dc = Math.max(dc, Math.abs(st[128 + k]! - u[128 + k]!)); if (Math.abs(Math.tanh(st[128 + k]!) - Math.tanh(u[128 + k]!)) > 0.1) bad++; cu = Math.max(cu, Math.abs(u[128 + k]!)); }
          reopen.push(`f${i} run-before ${pg.slice(0, i).reverse().findIndex((v) => v !== -1)} dh ${dh.toFixed(2)} dc ${dc.toFixed(1)} (|c_u| ${cu.toFixed(0)}) units off ${bad}`);
        }
        const PER = Number(process.env.ZERO_EVERY ?? 0), ZEND = process.env.ZERO_AFTER_END;
        if ((PER > 0 && i % PER === PER - 1) || (ZEND !== undefined && endedAt >= 0 && i === endedAt + Number(ZEND))) { const z = st.slice(); const part = process.env.ZPART ?? "hc"; if (part.includes("h")) z.fill(0, 0, 128); if (part.includes("c")) z.fill(0, 128, 256); st = z; }
        if (i === p.perturbAt) { st = st.slice(); for (let k = 128; k < 256; k++) st[k] = st[k]! * p.perturbScale!; }
        const r = await step(windows[i]!, st); prob = r.probability; last = st; st = r.state; if (p.ema && quiet && !inSpeech) { for (let k = 128; k < 256; k++) rate[k] = rate[k]! + ALPHA * (st[k]! - last[k]! - rate[k]!); } hist.push(st); if (hist.length > SPAN + 1) hist.shift();
        const dp = Math.abs(prob - pu[i]!); maxDp = Math.max(maxDp, dp); if (dp > 0.1) dpBig++; ranCompared++;
      }
      if (!skip) pg[i] = prob; fl[i] = gate.floorDbfs;
      const was = sg.inSpeech; sg.frame(prob, (i + 1) * F, ev); if (was && !sg.inSpeech) endedAt = i;
      if (i % 50 === 0) sd.push(dist(st, su[i]!));
    }
    sg.finish(n * F, ev);
    const m = match(U, segs(ev));
    if (process.env.DUMP) {
      const G = segs(ev); let shown = 0;
      for (const [s0, e0] of U) {
        const ok = G.some(([a, b]) => Math.abs(a - s0) <= 480 && Math.abs(b - e0) <= 480);
        if (ok || shown++ >= Number(process.env.DUMP)) continue;
        const near = G.filter(([a, b]) => b > s0 - 16000 && a < e0 + 16000).map(([a, b]) => `${(a / 16000).toFixed(2)}-${(b / 16000).toFixed(2)}`);
        console.log(`ungated ${(s0 / 16000).toFixed(2)}-${(e0 / 16000).toFixed(2)} s; gated near: ${near.join(' ')}`);
        const fs = Math.floor(s0 / F), fe = Math.floor(e0 / F);
        const line = (a: number, b: number) => { for (let i = Math.max(0, a); i < Math.min(n, b); i++) console.log(`  f${i} t=${(i * 0.032).toFixed(3)} e=${meanSquareToDbfs(ms[i]!).toFixed(1)} floor=${fl[i]!.toFixed(1)} pu=${pu[i]!.toFixed(3)} pg=${pg[i]! < 0 ? 'skip' : pg[i]!.toFixed(3)} trigU=${trigU[i]}`); };
        line(fs - 4, fs + 6); console.log('  ...'); line(fe - 6, fe + 6);
      }
    }
    sd.sort((a, b) => a - b); if (process.env.REOPEN) console.log(reopen.slice(0, Number(process.env.REOPEN)).join('\n'));
    console.log(`${p.name.padEnd(40)} skipped ${(100 * (1 - calls / n)).toFixed(1)} %  matched ${m.matched}/${m.ref} (gated ${m.oth}; unmatched ungated ${m.unmatchedRef}, gated ${m.unmatchedOth})  |dp|>0.1 on ${dpBig}/${ranCompared}  state dist median ${sd[sd.length >> 1]!.toFixed(3)}`);
  }
  const policies: Policy[] = [];
  for (const spec of (process.env.POLICIES ?? 'p16:16:0').split(',')) {
    const [name, pre, hang, margin, flags = ''] = spec.split(':');
    policies.push({ name: spec, preroll: Number(pre), hangFrames: Number(hang), marginDb: margin ? Number(margin) : undefined, reset: flags.includes('r'), extrapolate: flags.includes('x'), deltaBefore: flags.includes('d') || flags.includes('e'), ema: flags.includes('e'), perturbAt: flags.includes('P') ? Number(process.env.PERTURB_AT ?? 200) : undefined, perturbScale: Number(process.env.PERTURB_SCALE ?? 0) });
  }
  for (const p of policies) await sim(p);
  await rt.registry.dispose();
}
void main();
