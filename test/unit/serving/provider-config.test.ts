import { loadServingConfig } from '../../../lib/config/serving-config';
import { ConfigError } from '../../../lib/errors/hotpath-error';

describe('serving-config: execution providers and dynamic batching', () => {
  it('defaults to cuda, webgpu, cpu, the stated tolerance and batching on', () => {
    // Act
    const config = loadServingConfig({});

    // Assess
    expect(config.providers).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(config.providerTolerance).toEqual({ atol: 1e-5, rtol: 1e-2 });
    expect(config.dynamicBatching).toBe(true);
  });

  it('reads HOTPATH_PROVIDERS in its order, case and spaces aside, and the tolerance variables', () => {
    // Act
    const config = loadServingConfig({ HOTPATH_PROVIDERS: ' WebGPU , cpu', HOTPATH_PROVIDER_ATOL: '0.001', HOTPATH_PROVIDER_RTOL: '5e-2', HOTPATH_DYNAMIC_BATCHING: 'false' });

    // Assess
    expect(config).toMatchObject({ providers: ['webgpu', 'cpu'], providerTolerance: { atol: 0.001, rtol: 0.05 }, dynamicBatching: false });
  });

  it.each([
    ['HOTPATH_PROVIDERS', 'gpu,cpu', "HOTPATH_PROVIDERS: 'gpu,cpu' is not a comma-separated list of distinct providers from cuda, tensorrt, webgpu, cpu"],
    ['HOTPATH_PROVIDERS', 'cpu,cpu', "HOTPATH_PROVIDERS: 'cpu,cpu' is not a comma-separated list of distinct providers"],
    ['HOTPATH_PROVIDER_RTOL', '2', "HOTPATH_PROVIDER_RTOL: '2' is not a number between 0 and 1"],
    ['HOTPATH_PROVIDER_ATOL', 'tight', "HOTPATH_PROVIDER_ATOL: 'tight' is not a number between 0 and 1"],
    ['HOTPATH_DYNAMIC_BATCHING', 'yes', "HOTPATH_DYNAMIC_BATCHING: 'yes' is not true or false"],
  ])('fails naming %s when it is %j', (name, value, message) => {
    // Act
    const run = () => loadServingConfig({ [name]: value });

    // Assess
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});
