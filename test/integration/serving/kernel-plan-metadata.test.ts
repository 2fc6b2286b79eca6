import { createInProcessApi, type InProcessApi } from '../../support/in-process-api';

describe('model metadata of a kernel-served ONNX model (built models layer)', () => {
  let api: InProcessApi;

  beforeAll(async () => {
    api = await createInProcessApi({ models: ['iris-classifier', 'text-detector'] });
  }, 60_000);

  afterAll(() => api.runtime.registry.dispose());

  it('says the kernel plan serves iris-classifier and why, and keeps its platform and signature', async () => {
    // Act
    const result = await api.call('GET', '/v2/models/iris-classifier');
    const metadata = JSON.parse(result.body!);

    // Assess
    expect(metadata).toMatchObject({
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }, { name: 'label', datatype: 'INT64', shape: [-1] }],
      parameters: { route: 'local-kernel', model_parameters: { backend: 'kernel:feed-forward' } },
    });
    expect(metadata.parameters.model_parameters.backend_reason).toMatch(/parity with onnxruntime-node .* argmax identical/);
  });

  it('says why onnxruntime-web serves a graph the executor does not take', async () => {
    // Act
    const metadata = JSON.parse((await api.call('GET', '/v2/models/text-detector')).body!);

    // Assess
    expect(metadata.parameters).toMatchObject({ route: 'local-wasm', model_parameters: { backend: 'onnxruntime-web' } });
    expect(metadata.parameters.model_parameters.backend_reason).toMatch(/^no kernel plan: the feed-forward executor does not take the graph: input 'x' has a symbolic dim at axis 2/);
  });

  it('answers iris-classifier with the same classes the graph gives (setosa, virginica)', async () => {
    // Act
    const result = await api.call('POST', '/v2/models/iris-classifier/infer', {
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] }] }),
    });

    // Assess
    const outputs = JSON.parse(result.body!).outputs;
    expect(outputs.map((o: { name: string; datatype: string; shape: number[] }) => [o.name, o.datatype, o.shape])).toEqual([['probabilities', 'FP32', [2, 3]], ['label', 'INT64', [2]]]);
    expect(outputs[1].data).toEqual([0, 2]);
  });
});
