import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelBackend } from '../../../lib/backends/kernel-backend';
import { syntheticSpeechLikeAudio } from '../../../kernels/audio/synthetic-speech-signal';
import { detectSpeechSegments } from '../../../kernels/audio/silence-detector';

describe('kernel backend serving silence detection', () => {
  it('loads a *.silence-detector.json artifact and answers segments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'silence-'));
    const path = join(dir, 'model.silence-detector.json');
    writeFileSync(path, JSON.stringify({ kind: 'silence-detector', input: 'audio', sampleRateInput: false, options: {} }));
    const backend = new KernelBackend();
    await backend.init();
    const session = await backend.load({ name: 'silence-detector', version: '1', path, inputs: [], outputs: [] });
    expect(session.inputs.map((s) => s.name)).toEqual(['audio']);
    const { samples } = syntheticSpeechLikeAudio({ seconds: 8, seed: 3 });
    const [segments] = await session.run([{ name: 'audio', datatype: 'FP32', shape: [samples.length], data: samples }], ['segments']);
    expect(segments!.shape).toEqual([detectSpeechSegments(samples).length, 2]);
    await session.dispose();
  });
});
