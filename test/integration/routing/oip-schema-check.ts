/**
 * Checks a JSON value against a schema of the Open Inference Protocol's OpenAPI definition
 * (test/fixtures/open-inference-protocol): the subset it uses (`$ref`, `type`, `properties`,
 * `required`, `items`, `anyOf`). Besides what the schema requires, a property the schema does
 * not declare is reported too, so a misspelt field name fails instead of passing as an
 * "additional property".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
}

export interface OipRestDefinition {
  readonly $source: string;
  readonly paths: Readonly<Record<string, { post?: { requestBody: { content: Record<string, { schema: JsonSchema }> } }; parameters?: readonly { name: string; in: string }[] }>>;
  readonly components: { readonly schemas: Readonly<Record<string, JsonSchema>> };
}

const FIXTURES = join(__dirname, '../../fixtures/open-inference-protocol');

export function readOipRestDefinition(): OipRestDefinition {
  return JSON.parse(readFileSync(join(FIXTURES, 'open-inference-rest-infer.json'), 'utf8')) as OipRestDefinition;
}

export function readOipRestRules<T>(): T {
  return JSON.parse(readFileSync(join(FIXTURES, 'inference-rest-rules.json'), 'utf8')) as T;
}

/** Every way `value` breaks `schema`, as `path: problem` lines (empty when it conforms). */
export function schemaViolations(definition: OipRestDefinition, schema: JsonSchema, value: unknown, path = '$'): string[] {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = definition.components.schemas[name];
    if (target === undefined) return [`${path}: the definition has no schema '${name}'`];
    return schemaViolations(definition, target, value, path);
  }
  if (schema.anyOf !== undefined) {
    const fits = schema.anyOf.some((option) => schemaViolations(definition, option, value, path).length === 0);
    return fits ? [] : [`${path}: ${JSON.stringify(value)?.slice(0, 60)} matches none of anyOf`];
  }
  const problems: string[] = [];
  if (schema.type !== undefined && !hasType(value, schema.type)) return [`${path}: expected ${schema.type}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  if (schema.type === 'object' && isObject(value)) {
    for (const name of schema.required ?? []) if (!(name in value)) problems.push(`${path}: required property '${name}' is missing`);
    if (schema.properties !== undefined) {
      for (const [name, field] of Object.entries(value)) {
        const declared = schema.properties[name];
        if (declared === undefined) problems.push(`${path}: property '${name}' is not in the definition`);
        else problems.push(...schemaViolations(definition, declared, field, `${path}.${name}`));
      }
    }
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => problems.push(...schemaViolations(definition, schema.items!, item, `${path}[${i}]`)));
  }
  return problems;
}

/** The schema with `property` dropped from `required`: what an input sent in the binary extension must satisfy (its `data` follows the JSON). */
export function withoutRequired(schema: JsonSchema, property: string): JsonSchema {
  return { ...schema, required: (schema.required ?? []).filter((name) => name !== property) };
}

function hasType(value: unknown, type: NonNullable<JsonSchema['type']>): boolean {
  switch (type) {
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
