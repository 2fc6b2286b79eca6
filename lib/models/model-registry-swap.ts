import type { BackendSession } from '../backends/inference-backend';
import { NotFoundError } from '../errors/hotpath-error';
import { ModelRegistry, type RegisteredModel } from './model-registry';

/**
 * A registry that knows why some models are absent (unloaded, or their first load failed), so
 * their 404s say so instead of "not served here".
 */
class RegistryWithAbsences extends ModelRegistry {
  constructor(entries: readonly RegisteredModel[], /** Why each absent model is absent. */ readonly absent: ReadonlyMap<string, string>) {
    super(entries);
  }

  override find(name: string, version?: string): RegisteredModel {
    const reason = this.absent.get(name);
    if (reason !== undefined && !this.entries.some((e) => e.manifest.name === name)) throw new NotFoundError(reason);
    return super.find(name, version);
  }
}

/** The next registry after one model's versions were replaced, and the sessions that left service. */
export interface ModelReplacement {
  readonly registry: ModelRegistry;
  readonly retired: readonly BackendSession[];
}

/**
 * Puts `entries` in place of every version of model `name` (where its first version stood, or
 * at the end), keeping every other entry as it is. With no entries the model is gone, and
 * `absentReason` is the message of its 404s until it is back.
 *
 * @example
 * const { registry: next, retired } = replaceModelVersions(registry, 'iris', loaded.entries);
 */
export function replaceModelVersions(registry: ModelRegistry, name: string, entries: readonly RegisteredModel[], absentReason?: string): ModelReplacement {
  const at = registry.entries.findIndex((e) => e.manifest.name === name);
  const others = registry.entries.filter((e) => e.manifest.name !== name);
  const next = at === -1 ? [...others, ...entries] : [...others.slice(0, at), ...entries, ...others.slice(at)];
  const absent = new Map(registry instanceof RegistryWithAbsences ? registry.absent : []);
  if (entries.length === 0 && absentReason !== undefined) absent.set(name, absentReason);
  else absent.delete(name);
  const kept = new Set(next.flatMap((e) => (e.state.ready ? [e.state.session] : [])));
  const retired = registry.entries.flatMap((e) => (e.manifest.name === name && e.state.ready && !kept.has(e.state.session) ? [e.state.session] : []));
  return { registry: absent.size === 0 ? new ModelRegistry(next) : new RegistryWithAbsences(next, absent), retired };
}

