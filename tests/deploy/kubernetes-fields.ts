// Field names the Kubernetes API does not define. kubernetes-models validates an object's types, enums and required
// fields against the OpenAPI schema, but its schemas allow unknown properties, while the API server (strict field
// validation, kubectl's default) refuses them: a misspelt `readinessProbe` or `terminationGracePeriodSecond` would
// pass the model and fail `kubectl apply`. The field names come from the same package's type declarations
// (one interface per schema definition, e.g. kubernetes-models/apps/v1/DeploymentSpec.d.ts).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const MODELS = dirname(require.resolve('kubernetes-models/package.json'));

/** A definition's fields: each with the declaration file of its type when that type is an object definition. */
type Fields = Map<string, string | undefined>;
const cache = new Map<string, Fields | undefined>();

/** The fields declared in a .d.ts file's interface, or undefined when the type is not an object (a string alias). */
function fieldsOf(file: string): Fields | undefined {
  if (cache.has(file)) return cache.get(file);
  const text = readFileSync(file, 'utf8');
  const imports = new Map([...text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)].map((m) => [m[1]!, m[2]!]));
  const body = /^export interface I\w+ \{$([\s\S]*?)^\}$/m.exec(text)?.[1];
  let fields: Fields | undefined;
  if (body !== undefined) {
    fields = new Map();
    for (const [, name, type] of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
      const ref = /^(?:Array<)?(I\w+)>?$/.exec(type!)?.[1];
      const from = ref && imports.get(ref);
      fields.set(name!, from ? declarationFile(file, from) : undefined);
    }
  }
  cache.set(file, fields);
  return fields;
}

function declarationFile(from: string, specifier: string): string {
  const base = specifier.startsWith('.')
    ? join(dirname(from), specifier)
    : join(dirname(require.resolve(`${specifier.split('/').slice(0, 2).join('/')}/package.json`)), ...specifier.split('/').slice(2));
  return `${base}.d.ts`;
}

/** `kubernetes-models/<group>/<version>/<Kind>.d.ts` for an object's apiVersion and kind. */
export function modelFile(apiVersion: string, kind: string): string {
  const file = join(MODELS, ...apiVersion.split('/'), `${kind}.d.ts`);
  if (!existsSync(file)) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return file;
}

/** Paths of the fields in `value` that its definition (a declaration file) does not declare. */
export function unknownFields(value: unknown, file: string, path = ''): string[] {
  const fields = fieldsOf(file);
  if (!fields || typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownFields(item, file, `${path}[${i}]`));
  return Object.entries(value).flatMap(([key, child]) => {
    if (!fields.has(key)) return [`${path}.${key}`];
    const childFile = fields.get(key);
    return childFile ? unknownFields(child, childFile, `${path}.${key}`) : [];
  });
}
