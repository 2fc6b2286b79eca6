/**
 * TypeScript binding of the feed-forward kernels (kernels/build/feed-forward[.relaxed].wasm): runs
 * a kernel plan (feed-forward-plan.ts) on its own kernel instance, the plan's constants copied into
 * its memory once. The plan's shapes were proven at build; what a run checks is the batch rows
 * and the input lengths it is given.
 */
import { instantiateKernelModule, type KernelInstance, type LoadKernelOptions } from '../runtime/load-kernel-module';
import { arenaBytesForByteSizes, createArena, type ArenaBuffer, type WasmArena } from '../runtime/wasm-arena';
import { KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { ACTIVATIONS, countFor, type FeedForwardPlan, type PlanHeader, type PlanStep } from './feed-forward-plan';

export interface FeedForwardKernelExports {
  denseLayer(x: number, m: number, k: number, w: number, n: number, bias: number, y: number): void;
  transpose(x: number, rows: number, cols: number, y: number): void;
  binaryWithConstant(kind: number, x: number, rows: number, n: number, c: number, cLength: number, constFirst: number, dst: number): void;
  binarySameShape(kind: number, a: number, b: number, length: number, dst: number): void;
  unaryActivation(kind: number, x: number, length: number, dst: number): void;
  softmaxRows(src: number, rows: number, cols: number, dst: number): void;
  argmaxRows(src: number, rows: number, cols: number, dst: number): void;
}

/** One output of a run: float32 values, or int32 for integer outputs (the caller widens INT64). */
export type FeedForwardOutput = Float32Array | Int32Array;

/**
 * A plan loaded on its own kernel instance. Not reentrant (one run at a time, as every kernel
 * model: runs are synchronous).
 *
 * @example
 * const program = new FeedForwardProgram(decodeFeedForwardPlan(bytes)); // the file's bytes may go once this returns
 * const [probabilities, label] = program.run([features], rows);
 */
export class FeedForwardProgram {
  /** The plan's steps and tensors; its constants live only in kernel memory (not kept here: mlp-large's are 63 MB). */
  readonly header: PlanHeader;
  readonly #instance: KernelInstance<FeedForwardKernelExports>;
  readonly #constants: number;
  readonly #arena: WasmArena;
  #disposed = false;

  constructor(plan: FeedForwardPlan, options: Pick<LoadKernelOptions, 'buildDir' | 'simd' | 'variant'> = {}) {
    this.header = plan.header;
    this.#instance = instantiateKernelModule<FeedForwardKernelExports>('feed-forward', options);
    const constantsArena = createArena(this.#instance, arenaBytesForByteSizes(4 * plan.constants.length));
    // Kept for the program's life: only its pointer is used after this copy.
    this.#constants = constantsArena.f32From(plan.constants).ptr;
    // Per run: reset, then reserved for that batch before any view is made, so memory never grows under a view.
    this.#arena = createArena(this.#instance, this.#runBytes(1));
  }

  /** The SIMD level of the build this program runs. */
  get simd(): KernelInstance['simd'] {
    return this.#instance.simd;
  }

  /**
   * Runs the plan for `rows` batch rows. `inputs` follow the plan's inputs, each holding exactly its
   * elements for that many rows. Returns copies (owned by the caller), in the plan's output order.
   */
  run(inputs: readonly Float32Array[], rows: number): FeedForwardOutput[] {
    if (this.#disposed) throw new KernelArgumentError('feed-forward program: run after dispose');
    const { header } = this;
    if (!Number.isInteger(rows) || rows < 0) throw new KernelArgumentError(`'rows' must be a non-negative integer, got ${rows}`);
    if (inputs.length !== header.inputs.length) throw new KernelArgumentError(`expected ${header.inputs.length} input(s), got ${inputs.length}`);
    const arena = this.#arena;
    arena.reset();
    arena.reserve(this.#runBytes(rows));
    const buffers: ArenaBuffer<Float32Array | Int32Array>[] = header.buffers.map((b) => (b.type === 'f32' ? arena.f32(countFor(b.elements, rows)) : arena.i32(countFor(b.elements, rows))));
    header.inputs.forEach((input, i) => {
      const buffer = buffers[input.buffer]!;
      if (inputs[i]!.length !== buffer.length) throw new KernelArgumentError(`input '${input.name}': expected ${buffer.length} values for ${rows} row(s), got ${inputs[i]!.length}`);
      (buffer.view as Float32Array).set(inputs[i]!);
    });
    if (rows > 0) for (const step of header.steps) this.#runStep(step, buffers, rows);
    return header.outputs.map((output) => buffers[output.buffer]!.view.slice());
  }

  /** Frees nothing inside WASM (the instance and its memory go with this object); later runs throw. */
  dispose(): void {
    this.#disposed = true;
    this.#arena.release();
  }

  #runBytes(rows: number): number {
    return arenaBytesForByteSizes(...this.header.buffers.map((b) => 4 * countFor(b.elements, rows)));
  }

  #runStep(step: PlanStep, buffers: readonly ArenaBuffer<Float32Array | Int32Array>[], rows: number): void {
    const k = this.#instance.exports;
    const at = (buffer: number): number => buffers[buffer]!.ptr;
    const constant = (offset: number): number => this.#constants + 4 * offset;
    switch (step.op) {
      case 'dense': {
        const m = countFor(step.rows, rows);
        k.denseLayer(at(step.x), m, step.k, constant(step.weight), step.n, step.bias < 0 ? 0 : constant(step.bias), at(step.y));
        if (step.activation !== ACTIVATIONS.none) k.unaryActivation(step.activation, at(step.y), m * step.n, at(step.y));
        return;
      }
      case 'transpose':
        k.transpose(at(step.x), step.rows, step.cols, at(step.y));
        return;
      case 'binaryConstant':
        k.binaryWithConstant(step.kind, at(step.x), countFor(step.rows, rows), step.n, constant(step.constant), step.constantLength, step.constantFirst ? 1 : 0, at(step.y));
        return;
      case 'binary':
        k.binarySameShape(step.kind, at(step.a), at(step.b), countFor(step.length, rows), at(step.y));
        return;
      case 'unary':
        k.unaryActivation(step.kind, at(step.x), countFor(step.length, rows), at(step.y));
        return;
      case 'softmax':
        k.softmaxRows(at(step.x), countFor(step.rows, rows), step.n, at(step.y));
        return;
      case 'argmax':
        k.argmaxRows(at(step.x), countFor(step.rows, rows), step.n, at(step.y));
        return;
      case 'intToFloat': {
        const from = buffers[step.x]!.view as Int32Array;
        const to = buffers[step.y]!.view as Float32Array;
        for (let i = 0; i < to.length; i++) to[i] = from[i]!;
        return;
      }
    }
  }
}
