// A small kustomize: renders a kustomization directory as `kubectl kustomize` does, for the part of kustomize that
// deploy/k8s uses, so that the Kubernetes test runs on a machine without kubectl (where kubectl is installed, the
// test checks that both renders are equal). Anything else in a kustomization.yaml is refused by name: keep the
// overlays within this subset, or extend it here.
//
//   resources   files (several YAML documents each) and directories holding a kustomization.yaml
//   namespace   set on every namespaced object
//   labels      `pairs` added to every object's labels; `includeTemplates` also to pod templates (not selectors)
//   images      `name` → `newName`, `newTag`, `digest`, in every container and init container
//   patches     `path` or inline `patch`, with an optional `target` (kind, name as an anchored regular
//               expression, namespace). A YAML list is a JSON 6902 patch (add, replace, remove); anything else a
//               strategic merge patch, in the subset used here: maps merge, lists of named items merge by name,
//               other lists are replaced, null removes a key.
//
// The order within one kustomization is kustomize's: its resources (a directory rendered whole first), then
// patches, namespace, labels, images.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Target {
  kind?: string;
  name?: string;
  namespace?: string;
}
interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; patch?: string; target?: Target }[];
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass']);
/** Kinds whose spec.template is a pod template (labels with includeTemplates). */
const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController']);

/** The objects `kubectl kustomize <dir>` prints, in kustomize's order of kinds. */
export function renderKustomization(dir: string): KubeObject[] {
  const root = resolve(dir);
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(root, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`${root}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) {
    throw new Error(`${file}: ${unsupported.join(', ')} not supported by tests/deploy/kustomize.ts (keep to ${[...SUPPORTED].join(', ')})`);
  }

  let objects = (k.resources ?? []).flatMap((entry) => {
    const path = join(root, entry);
    return statSync(path).isDirectory() ? renderKustomization(path) : readObjects(path);
  });
  for (const p of k.patches ?? []) {
    const text = p.path ? readFileSync(join(root, p.path), 'utf8') : p.patch;
    if (!text) throw new Error(`${file}: a patch needs path or patch`);
    objects = applyPatch(objects, parse(text) as Json, p.target, file);
  }
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const { pairs, includeSelectors, includeTemplates } of k.labels ?? []) {
    if (includeSelectors) throw new Error(`${file}: labels.includeSelectors is not supported by tests/deploy/kustomize.ts`);
    for (const o of objects) {
      o.metadata.labels = { ...o.metadata.labels, ...pairs };
      const template = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      if (includeTemplates && WORKLOADS.has(o.kind) && template) template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...pairs } };
    }
  }
  for (const image of k.images ?? []) for (const o of objects) renameImages(o as unknown as Json, image);
  return sortByKind(objects);
}

function readObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

function matches(o: KubeObject, target: Target): boolean {
  return (
    (!target.kind || o.kind === target.kind) &&
    (!target.name || new RegExp(`^(?:${target.name})$`).test(o.metadata.name)) &&
    (!target.namespace || o.metadata.namespace === target.namespace)
  );
}

function applyPatch(objects: KubeObject[], patch: Json, target: Target | undefined, file: string): KubeObject[] {
  if (Array.isArray(patch)) {
    if (!target) throw new Error(`${file}: a JSON 6902 patch needs a target`);
    const hit = objects.filter((o) => matches(o, target));
    if (!hit.length) throw new Error(`${file}: no object matches the patch target ${JSON.stringify(target)}`);
    return objects.map((o) => (hit.includes(o) ? (patch.reduce<Json>((doc, op) => applyOperation(doc, op as JsonObject), o as unknown as Json) as unknown as KubeObject) : o));
  }
  const p = patch as unknown as KubeObject;
  const selector: Target = target ?? { kind: p.kind, name: escapeRegExp(p.metadata.name) };
  const hit = objects.filter((o) => matches(o, selector));
  if (!hit.length) throw new Error(`${file}: no object matches the patch for ${p.kind} ${p.metadata?.name}`);
  return objects.map((o) =>
    hit.includes(o) ? (mergeStrategic(o as unknown as Json, { ...p, metadata: { ...p.metadata, name: o.metadata.name } } as unknown as Json) as unknown as KubeObject) : o,
  );
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** RFC 6902 add, replace and remove on a copy; paths are RFC 6901 pointers, "-" being the end of a list. */
function applyOperation(doc: Json, op: JsonObject): Json {
  const copy = structuredClone(doc);
  const path = String(op.path)
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = path.pop()!;
  let parent: Json = copy;
  for (const key of path) {
    const next: Json | undefined = Array.isArray(parent) ? parent[Number(key)] : (parent as JsonObject)?.[key];
    if (next === undefined || next === null || typeof next !== 'object') throw new Error(`JSON patch ${String(op.op)} ${String(op.path)}: no ${key}`);
    parent = next;
  }
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value!));
    else if (op.op === 'replace') parent[index] = structuredClone(op.value!);
    else if (op.op === 'remove') parent.splice(index, 1);
    else throw new Error(`JSON patch op ${String(op.op)} is not supported by tests/deploy/kustomize.ts`);
  } else {
    const object = parent as JsonObject;
    if (op.op === 'add' || op.op === 'replace') {
      if (op.op === 'replace' && !(last in object)) throw new Error(`JSON patch replace ${String(op.path)}: nothing there`);
      object[last] = structuredClone(op.value!);
    } else if (op.op === 'remove') delete object[last];
    else throw new Error(`JSON patch op ${String(op.op)} is not supported by tests/deploy/kustomize.ts`);
  }
  return copy;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const named = (list: Json[]): list is JsonObject[] => list.every((item) => isObject(item) && typeof item.name === 'string');

function mergeStrategic(base: Json, patch: Json): Json {
  if (isObject(base) && isObject(patch)) {
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? mergeStrategic(base[key]!, value) : value;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && named(base) && named(patch)) {
    const out = base.map((item) => {
      const change = patch.find((p) => p.name === item.name);
      return change ? mergeStrategic(item, change) : item;
    });
    return [...out, ...patch.filter((p) => !base.some((item) => item.name === p.name))];
  }
  return patch;
}

/** Every `containers` and `initContainers` image named `image.name`, with or without a tag or digest. */
function renameImages(node: Json, image: NonNullable<Kustomization['images']>[number]): void {
  if (Array.isArray(node)) return node.forEach((n) => renameImages(n, image));
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
      for (const container of value) {
        if (!isObject(container) || typeof container.image !== 'string') continue;
        const [, name, tag, digest] = /^(.*?)(?::([\w][\w.-]*))?(?:@(.+))?$/.exec(container.image)!;
        if (name !== image.name) continue;
        const newTag = image.newTag ?? tag;
        const newDigest = image.digest ?? (image.newTag ? undefined : digest);
        container.image = `${image.newName ?? name}${newDigest ? `@${newDigest}` : newTag ? `:${newTag}` : ''}`;
      }
    } else renameImages(value, image);
  }
}

/** kustomize's "legacy" order: kinds others depend on first, then the rest by kind; by name within a kind. */
const KIND_ORDER = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
function sortByKind(objects: KubeObject[]): KubeObject[] {
  const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
  return [...objects].sort((a, b) => rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
}

/** The repository's Kubernetes manifests. */
export const K8S_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'k8s');
