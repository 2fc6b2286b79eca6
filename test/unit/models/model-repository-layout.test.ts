import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listModelFolders, selectModelVersions } from '../../../layers/models/model-repository/model-repository-layout';

describe('model repository layout', () => {
  let repo: string;

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'hotpath-layout-'));
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  function put(path: string, content = 'x'): void {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), content);
  }

  function versionsOf(name: string, policy?: Parameters<typeof selectModelVersions>[1], filename = 'model.onnx') {
    const folder = listModelFolders(repo).folders.find((f) => f.name === name)!;
    const { versions, errors } = selectModelVersions(folder, policy, filename);
    return { versions: versions.map((v) => v.file), errors: errors.map((e) => e.message) };
  }

  it('lists model folders with their config, passing over hidden entries and loose files', () => {
    put('iris/config.pbtxt');
    put('iris/1/model.onnx');
    put('vad/1/model.onnx');
    put('README.md');
    put('.git/HEAD');

    const { folders, errors } = listModelFolders(repo);

    expect(folders.map((f) => [f.name, f.configPath !== undefined])).toEqual([['iris', true], ['vad', false]]);
    expect(errors).toEqual([]);
  });

  it('refuses a folder whose name is not a path segment, naming it, and lists the others', () => {
    put('my model/1/model.onnx');
    put('ok/1/model.onnx');

    const { folders, errors } = listModelFolders(repo);

    expect(folders.map((f) => f.name)).toEqual(['ok']);
    expect(errors.map((e) => e.message)).toEqual([
      "model folder 'my model' is not a valid model name: it becomes a URL path segment (/v2/models/{name}); rename it with letters, digits, '.', '_' and '-' only, starting with a letter or digit",
    ]);
  });

  it('refuses a repository that is not a folder', () => {
    expect(() => listModelFolders(join(repo, 'missing'))).toThrow(/is not a folder; give the folder that holds <model>\/<version>\/model.onnx/);
  });

  it('selects the latest version by default, the newest n, all, or the listed ones', () => {
    for (const v of ['1', '2', '10']) put(`m/${v}/model.onnx`);

    expect(versionsOf('m').versions).toEqual(['m/10/model.onnx']);
    expect(versionsOf('m', { latest: 2 }).versions).toEqual(['m/2/model.onnx', 'm/10/model.onnx']);
    expect(versionsOf('m', { all: true }).versions).toEqual(['m/1/model.onnx', 'm/2/model.onnx', 'm/10/model.onnx']);
    expect(versionsOf('m', { specific: [1, 10] }).versions).toEqual(['m/1/model.onnx', 'm/10/model.onnx']);
  });

  it('finds the model under default_model_filename', () => {
    put('m/1/iris.onnx');

    expect(versionsOf('m', undefined, 'iris.onnx').versions).toEqual(['m/1/iris.onnx']);
  });

  it('refuses a model with no version folder', () => {
    put('m/config.pbtxt');

    expect(versionsOf('m').errors).toEqual(["model 'm': 'm' has no version folder; put the model at m/1/model.onnx"]);
  });

  it('refuses a version folder that is not an integer, and builds the others', () => {
    put('m/1/model.onnx');
    put('m/v2/model.onnx');

    const { versions, errors } = versionsOf('m', { all: true });

    expect(versions).toEqual(['m/1/model.onnx']);
    expect(errors).toEqual(["model 'm': folder 'm/v2' is not a version: version folders are integers (m/1/model.onnx); rename it or move it out of the repository"]);
  });

  it('refuses a version without the model file, saying which file it holds and how to name it', () => {
    put('m/1/resnet.onnx');
    mkdirSync(join(repo, 'm', '2'));

    const { errors } = versionsOf('m', { all: true });

    expect(errors).toEqual([
      "model 'm': m/1 has no model file model.onnx; it holds 'resnet.onnx': rename it to model.onnx, or set default_model_filename: \"resnet.onnx\" in config.pbtxt",
      "model 'm': m/2 has no model file model.onnx (it is empty)",
    ]);
  });

  it('refuses a version folder with two files', () => {
    put('m/1/model.onnx');
    put('m/1/model-fp16.onnx');

    expect(versionsOf('m').errors).toEqual([
      "model 'm': m/1 holds model-fp16.onnx beside model.onnx; a version folder holds one model file (an ONNX model keeps its weights inside it): remove the others, or put a second model in a version folder of its own",
    ]);
  });

  it('refuses a specific version policy naming a version that has no folder', () => {
    put('m/1/model.onnx');

    const { versions, errors } = versionsOf('m', { specific: [1, 3] });

    expect(versions).toEqual(['m/1/model.onnx']);
    expect(errors).toEqual(["model 'm': version_policy specific lists version 3, which has no folder m/3; add the folder or remove 3 from versions"]);
  });
});
