import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Validates response bodies against the official Message Batches schemas, as copied into
 * `test/fixtures/openapi-batches.json` by `test/fixtures/extract-schemas.mjs`.
 *
 * The fixture is OpenAPI: its schemas reference each other as `#/components/schemas/X`, may carry
 * OpenAPI 3.0 `nullable`, `example` and `x-…` vendor keys, and discriminators with `mapping`. They
 * are turned into a plain JSON Schema 2020-12 document (`$defs`, `anyOf [..., null]`) before Ajv
 * compiles them.
 */

const FIXTURE = new URL('../../test/fixtures/openapi-batches.json', import.meta.url);
const DOCUMENT_ID = 'https://batchd.test/openapi-batches.json';
const OPENAPI_REF = '#/components/schemas/';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Fixture {
  components: { schemas: Record<string, JsonObject> };
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;

/** Names of the schemas the fixture holds. */
export type SchemaName = string;

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys that are annotations in OpenAPI and unknown keywords to a JSON Schema validator. */
function isOpenApiAnnotation(key: string): boolean {
  return key.startsWith('x-') || key === 'example' || key === 'xml' || key === 'externalDocs';
}

/** Keywords whose values are data, not schemas: copied as they are. */
const VALUE_KEYWORDS = new Set(['enum', 'const', 'default', 'examples', 'required']);

/**
 * Converts one OpenAPI schema node (recursively) to JSON Schema 2020-12. `parentKey` tells
 * whether `node` is a schema or a map of property names (under `properties`, `$defs`, …), whose
 * keys must be kept even when they look like keywords.
 */
export function toJsonSchema(node: Json, parentKey?: string): Json {
  if (parentKey !== undefined && VALUE_KEYWORDS.has(parentKey)) return node;
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item));
  if (!isObject(node)) return node;
  const isNameMap = parentKey === 'properties' || parentKey === '$defs' || parentKey === 'patternProperties';
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (isNameMap) {
      out[key] = toJsonSchema(value);
      continue;
    }
    if (isOpenApiAnnotation(key) || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith(OPENAPI_REF)) {
      out.$ref = `#/$defs/${value.slice(OPENAPI_REF.length)}`;
    } else if (key === 'discriminator' && isObject(value)) {
      // Ajv reads the tag values from the `const` of each oneOf branch and rejects `mapping`.
      out.discriminator = { propertyName: value.propertyName ?? 'type' };
    } else {
      out[key] = toJsonSchema(value, key);
    }
  }
  if (!isNameMap && node.nullable === true) return nullable(out);
  return out;
}

/** OpenAPI 3.0 `nullable: true` is JSON Schema's "this, or null". */
function nullable(schema: JsonObject): JsonObject {
  if (typeof schema.type === 'string' && !('enum' in schema) && !('const' in schema)) {
    return { ...schema, type: [schema.type, 'null'] };
  }
  return { anyOf: [schema, { type: 'null' }] };
}

function buildAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, discriminator: true });
  const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
  addFormats(ajv);
  const $defs: JsonObject = {};
  for (const [name, schema] of Object.entries(fixture.components.schemas)) $defs[name] = toJsonSchema(schema);
  ajv.addSchema({ $id: DOCUMENT_ID, $defs });
  return ajv;
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    if (!(name in fixture.components.schemas)) throw new Error(`no schema named ${name} in openapi-batches.json`);
    ajv ??= buildAjv();
    validate = ajv.getSchema(`${DOCUMENT_ID}#/$defs/${name}`);
    if (!validate) throw new Error(`schema ${name} did not compile`);
    compiled.set(name, validate);
  }
  return validate;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(body)' : error.instancePath;
  const params = Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : '';
  return `  ${where}: ${error.message ?? 'invalid'}${params} [schema ${error.schemaPath}]`;
}

function preview(body: unknown): string {
  const text = JSON.stringify(body);
  if (text === undefined) return String(body);
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length} chars)` : text;
}

/** Schema errors of `body` against the named schema, formatted one per line; empty when valid. */
export function schemaErrors(name: SchemaName, body: unknown): string[] {
  const validate = validatorFor(name);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(describe);
}

/**
 * Fails the current test, listing every violation, unless `body` matches the named schema of the
 * official Message Batches API. Returns the body, typed as the caller expects it.
 */
export function expectSchema<T = unknown>(name: SchemaName, body: unknown): T {
  const errors = schemaErrors(name, body);
  if (errors.length > 0) {
    throw new Error(`response body does not match schema ${name}:\n${errors.join('\n')}\nbody: ${preview(body)}`);
  }
  return body as T;
}
