import { loadServingConfig } from '../../../lib/config/serving-config';
import { ConfigError } from '../../../lib/errors/hotpath-error';

describe('serving-config HOTPATH_WASM_MODELS', () => {
  it('defaults to no model, and reads * or a list of names', () => {
    expect(loadServingConfig({}).wasmModels).toEqual([]);
    expect(loadServingConfig({ HOTPATH_WASM_MODELS: ' * ' }).wasmModels).toBe('*');
    expect(loadServingConfig({ HOTPATH_WASM_MODELS: 'iris-classifier, mlp-small,' }).wasmModels).toEqual(['iris-classifier', 'mlp-small']);
  });

  it('refuses a value that is not model names, naming the variable', () => {
    expect(() => loadServingConfig({ HOTPATH_WASM_MODELS: 'iris classifier' })).toThrow(ConfigError);
    expect(() => loadServingConfig({ HOTPATH_WASM_MODELS: ',' })).toThrow("HOTPATH_WASM_MODELS: ',' is not '*' or a comma-separated list of model names");
  });
});
