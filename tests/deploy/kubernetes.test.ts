// deploy/k8s rendered and checked without a cluster. Each overlay is rendered by our small kustomize
// (tests/deploy/kustomize.ts) and, where kubectl is installed, by `kubectl kustomize` too, and both must agree.
// Every object is validated against the Kubernetes OpenAPI schema (kubernetes-models) with unknown field names
// refused as the API server refuses them; then what ties the objects together: selectors, ports, probes, the
// Ingress, autoscalers and disruption budgets, service accounts, network policies, every environment reference
// and each DEMS container's environment loaded by that role's own config schema, graceful termination.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SECRET_SETTINGS } from '@dems/kit';
import { K8S_DIR, renderKustomization, type KubeObject } from './kustomize.js';
import { modelFile, unknownFields } from './kubernetes-fields.js';
import { listeningPort, loadRoleConfig, ROLES, ROOT, SERVICES, unknownVariables, URL_VARIABLE, type Role } from './service-config.js';

// ---- the Kubernetes shapes this file reads -------------------------------------------------------------------
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: { name: string }[];
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface Workload extends KubeObject {
  spec: { replicas?: number; selector: LabelSelector; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

// ---- rendering ------------------------------------------------------------------------------------------------
const OVERLAYS = ['local', 'eks'] as const;
type Overlay = (typeof OVERLAYS)[number];

const KUBECTL = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!KUBECTL && process.env.CI === 'true') {
  throw new Error('kubectl is not installed: under CI=true the Kubernetes test compares our renders with `kubectl kustomize`; install kubectl (it includes kustomize).');
}

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, renderKustomization(join(K8S_DIR, 'overlays', o))])) as Record<Overlay, KubeObject[]>;

const keyOf = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`;
const byKey = (objects: KubeObject[]) => Object.fromEntries(objects.map((o) => [keyOf(o), o]));

/** The one image's name without registry, tag or digest: `dems` for DEMS containers. */
const imageName = (image: string) => /([^/]+?)(?::[\w.-]+)?(?:@.+)?$/.exec(image)![1]!;

class Render {
  constructor(readonly objects: KubeObject[]) {}
  ofKind<T extends KubeObject = KubeObject>(kind: string): T[] {
    return this.objects.filter((o) => o.kind === kind) as T[];
  }
  named<T extends KubeObject = KubeObject>(kind: string, name: string): T | undefined {
    return this.ofKind<T>(kind).find((o) => o.metadata.name === name);
  }
  get workloads(): Workload[] {
    return this.objects.filter((o) => ['Deployment', 'Job'].includes(o.kind)) as Workload[];
  }
  /** The DEMS Deployments: those running the dems image, by role (the container's argument). */
  get roles(): Map<Role, Workload> {
    const found = new Map<Role, Workload>();
    for (const d of this.ofKind<Workload>('Deployment')) {
      const container = d.spec.template.spec.containers[0]!;
      if (imageName(container.image) === 'dems') found.set(container.args![0] as Role, d);
    }
    return found;
  }
  podsSelectedBy(selector: LabelSelector): Workload[] {
    return this.workloads.filter((w) => selects(selector, w.spec.template.metadata.labels));
  }
}
const render = Object.fromEntries(OVERLAYS.map((o) => [o, new Render(rendered[o])])) as Record<Overlay, Render>;

function selects(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) =>
    operator === 'In' ? values.includes(labels[key]!) : operator === 'NotIn' ? !values.includes(labels[key]!) : operator === 'Exists' ? key in labels : !(key in labels),
  );
  return byLabel && byExpression;
}

/** A port by name or number among a container's ports. */
const portOf = (container: Container, port: number | string) => container.ports?.find((p) => p.name === port || p.containerPort === port);
const probes = (c: Container) => [c.readinessProbe, c.livenessProbe, c.startupProbe].filter((p): p is Probe => p !== undefined);

// ---- a container's environment as its process sees it -------------------------------------------------------
/** Stand-ins for what the Secret dems-secrets holds: made outside the repository, so never rendered. */
const DEMS_SECRETS: Record<string, string> = {
  SERVICE_SECRET: 'a-stand-in-service-secret-of-40-characters',
  JWT_SIGNING_KEY: '[{"kty":"OKP","crv":"Ed25519","x":"stand-in","d":"stand-in"}]',
  REDIS_URL: 'rediss://:a-stand-in-token@dems-redis.example.cache.amazonaws.com:6379',
};

function environment(r: Render, container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  const secretValue = (name: string, key: string) => (name === 'dems-secrets' ? DEMS_SECRETS[key] : stringData(r, name)[key]);
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, r.named('ConfigMap', from.configMapRef.name)?.data);
    if (from.secretRef) Object.assign(env, from.secretRef.name === 'dems-secrets' ? DEMS_SECRETS : stringData(r, from.secretRef.name));
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? secretValue(ref!.name, ref!.key) : (r.named('ConfigMap', ref!.name)?.data as Record<string, string>)[ref!.key])!;
  }
  return env;
}
const stringData = (r: Render, name: string) => (r.named('Secret', name)?.stringData ?? {}) as Record<string, string>;

// ---- the tests ------------------------------------------------------------------------------------------------
describe('deploy/k8s', () => {
  it.skipIf(!KUBECTL)(`renders as kubectl kustomize renders it${KUBECTL ? '' : ' (skipped: kubectl is not installed here)'}`, () => {
    for (const overlay of OVERLAYS) {
      const out = spawnSync('kubectl', ['kustomize', join(K8S_DIR, 'overlays', overlay)], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      const theirs = parseAllDocuments(out.stdout).map((d) => d.toJS() as KubeObject);
      expect(byKey(rendered[overlay]), overlay).toEqual(byKey(theirs));
    }
  });

  it('(our renderer refuses what it does not implement, by name, rather than render it wrongly)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dems-kustomize-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\ncommonLabels:\n  a: b\nnamePrefix: x-\n');
      expect(() => renderKustomization(dir)).toThrow(/commonLabels, namePrefix not supported by tests\/deploy\/kustomize\.ts/);
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\npatches:\n  - target: { kind: Deployment }\n    patch: "[{op: move, from: /a, path: /b}]"\n');
      expect(() => renderKustomization(dir)).toThrow(/no object matches the patch target/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    const r = render[overlay];

    it('holds only valid Kubernetes objects (OpenAPI schema, no field the API does not know)', () => {
      const MODELS: Record<string, Record<string, unknown>> = {
        v1: core,
        'apps/v1': apps,
        'autoscaling/v2': autoscaling,
        'batch/v1': batch,
        'networking.k8s.io/v1': networking,
        'policy/v1': policy,
      };
      for (const o of r.objects) {
        const Model = MODELS[o.apiVersion]?.[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
        expect(Model, `${o.apiVersion} ${o.kind}: a model to validate it`).toBeDefined();
        expect(() => new Model!(o).validate(), keyOf(o)).not.toThrow();
        expect(unknownFields(o, modelFile(o.apiVersion, o.kind)), keyOf(o)).toEqual([]);
      }
    });

    it('puts everything in the namespace dems, which enforces the restricted Pod Security Standard', () => {
      for (const o of r.objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace, keyOf(o)).toBe('dems');
      expect(r.named('Namespace', 'dems')?.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    });

    it('runs the four roles from the dems image, each as its own service account', () => {
      expect([...r.roles.keys()].sort()).toEqual([...ROLES].sort());
      for (const [role, d] of r.roles) {
        expect(d.metadata.name, role).toBe(role);
        expect(d.spec.template.spec.containers[0]!.args, role).toEqual([role]);
        expect(d.spec.template.spec.serviceAccountName, role).toBe(`dems-${role}`);
      }
    });

    it('names only service accounts that exist, and mounts no Kubernetes API token', () => {
      for (const w of r.workloads) {
        const account = w.spec.template.spec.serviceAccountName;
        if (account) expect(r.named('ServiceAccount', account), `${keyOf(w)} runs as ${account}`).toBeDefined();
        expect(w.spec.template.spec.automountServiceAccountToken, keyOf(w)).toBe(false);
        expect(w.spec.template.spec.enableServiceLinks, `${keyOf(w)}: service links would set EVENTS_PORT=tcp://…`).toBe(false);
      }
    });

    it('selects pods with every Service, and points targetPort at a named container port', () => {
      for (const s of r.ofKind<KubeObject & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } }>('Service')) {
        const pods = r.podsSelectedBy({ matchLabels: s.spec.selector });
        expect(pods.map(keyOf), `${keyOf(s)} selects one Deployment's pods`).toHaveLength(1);
        for (const p of s.spec.ports) {
          expect(typeof p.targetPort, `${keyOf(s)} port ${p.name}: name the container port`).toBe('string');
          expect(portOf(pods[0]!.spec.template.spec.containers[0]!, p.targetPort), `${keyOf(s)} → ${p.targetPort}`).toBeDefined();
        }
      }
    });

    it('probes declared ports: readiness on /readyz, liveness on /healthz for DEMS', () => {
      for (const w of r.workloads) {
        for (const c of w.spec.template.spec.containers) {
          for (const probe of probes(c)) {
            const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
            if (port !== undefined) expect(portOf(c, port), `${keyOf(w)} probes port ${port}`).toBeDefined();
          }
        }
      }
      for (const [role, d] of r.roles) {
        const c = d.spec.template.spec.containers[0]!;
        expect(c.readinessProbe?.httpGet?.path, role).toBe('/readyz');
        expect(c.livenessProbe?.httpGet?.path, role).toBe('/healthz');
      }
    });

    it('listens where each role is configured to, and tells every role where the others are (Service name and port)', () => {
      for (const [role, d] of r.roles) {
        const c = d.spec.template.spec.containers[0]!;
        expect(portOf(c, 'http')?.containerPort, role).toBe(listeningPort(role, environment(r, c)));
        for (const target of SERVICES) {
          const urls = (loadRoleConfig(role, environment(r, c)) as unknown as Record<string, string[]>)[URL_VARIABLE[target]]!;
          const url = new URL(urls[0]!);
          const service = r.named<KubeObject & { spec: { ports: { port: number; targetPort: string }[] } }>('Service', url.hostname);
          expect(service, `${role} ${URL_VARIABLE[target]} names a Service`).toBeDefined();
          const port = service!.spec.ports.find((p) => p.port === Number(url.port));
          expect(port, `${role} ${URL_VARIABLE[target]}: the Service has port ${url.port}`).toBeDefined();
          const targetPods = r.podsSelectedBy({ matchLabels: (service!.spec as unknown as { selector: Record<string, string> }).selector });
          expect(
            targetPods.map((p) => p.metadata.name),
            `${role} ${URL_VARIABLE[target]}`,
          ).toEqual([target]);
        }
      }
    });

    it('refers only to ConfigMap keys and Secrets that exist or are the decided keys of dems-secrets', () => {
      const decided = ['SERVICE_SECRET', 'JWT_SIGNING_KEY', 'REDIS_URL'];
      for (const w of r.workloads) {
        for (const c of w.spec.template.spec.containers) {
          for (const from of c.envFrom ?? []) {
            if (from.configMapRef) expect(r.named('ConfigMap', from.configMapRef.name), `${keyOf(w)} envFrom`).toBeDefined();
            if (from.secretRef) expect(r.named('Secret', from.secretRef.name), `${keyOf(w)} envFrom`).toBeDefined();
          }
          for (const e of c.env ?? []) {
            const secret = e.valueFrom?.secretKeyRef;
            const config = e.valueFrom?.configMapKeyRef;
            if (config) expect(r.named('ConfigMap', config.name)?.data, `${keyOf(w)} ${e.name}`).toHaveProperty([config.key]);
            if (secret?.name === 'dems-secrets') {
              expect(decided, `${keyOf(w)} ${e.name}`).toContain(secret.key);
              expect(e.name, 'a dems-secrets key fills the setting of its name').toBe(secret.key);
              expect(SECRET_SETTINGS, `${e.name} is a secret setting (it may also come from a file)`).toContain(e.name as (typeof SECRET_SETTINGS)[number]);
            } else if (secret) expect(stringData(r, secret.name), `${keyOf(w)} ${e.name}`).toHaveProperty([secret.key]);
          }
        }
      }
      expect(r.named('Secret', 'dems-secrets'), 'dems-secrets is made outside the repository, never committed').toBeUndefined();
    });

    it('gives each DEMS role an environment its own config schema loads, with nothing it does not read', () => {
      const configKeys = Object.keys(r.named('ConfigMap', 'dems-config')?.data ?? {});
      const readBySome = new Set<string>();
      for (const [role, d] of r.roles) {
        const env = environment(r, d.spec.template.spec.containers[0]!);
        const config = loadRoleConfig(role, env) as unknown as Record<string, unknown>;
        expect(config.HOST, role).toBe('0.0.0.0');
        for (const key of configKeys) if (!unknownVariables(role, [key]).length) readBySome.add(key);
        const own = Object.keys(env).filter((k) => !configKeys.includes(k));
        expect(unknownVariables(role, own), `${role}: its own variables`).toEqual([]);
        if (role !== 'gateway') expect(config.STORE, role).toBe('dynamodb');
        if (role === 'events' || role === 'gateway') expect(env.BANNER_STORE, role).toBe('s3');
      }
      expect(
        configKeys.filter((k) => !readBySome.has(k)),
        'dems-config keys no role reads',
      ).toEqual([]);
      // Secrets only by reference: the engagement and service secrets never in the ConfigMap.
      for (const secret of ['SERVICE_SECRET', 'JWT_SIGNING_KEY', 'ADMIN_PASSWORD']) expect(configKeys).not.toContain(secret);
    });

    it('scales every role on CPU and keeps one pod at a time out (autoscalers and disruption budgets)', () => {
      for (const role of ROLES) {
        const hpa = r.named<
          KubeObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: { resource: { name: string } }[] } }
        >('HorizontalPodAutoscaler', role);
        expect(hpa?.spec.scaleTargetRef, role).toMatchObject({ kind: 'Deployment', name: role });
        expect(r.named(hpa!.spec.scaleTargetRef.kind, hpa!.spec.scaleTargetRef.name), role).toBeDefined();
        expect(
          hpa!.spec.metrics.map((m) => m.resource.name),
          role,
        ).toEqual(['cpu']);
        expect(hpa!.spec.maxReplicas, role).toBeGreaterThan(hpa!.spec.minReplicas);
        const pdb = r.named<KubeObject & { spec: { selector: LabelSelector; maxUnavailable: number } }>('PodDisruptionBudget', role);
        expect(
          r.podsSelectedBy(pdb!.spec.selector).map((w) => w.metadata.name),
          role,
        ).toEqual([role]);
        expect(pdb!.spec.maxUnavailable, role).toBe(1);
        expect(r.roles.get(role)!.spec.replicas, `${role}: the autoscaler owns the replica count`).toBeUndefined();
        // CPU utilisation is measured against the request; a memory limit stops a leak from taking the node.
        const resources = r.roles.get(role)!.spec.template.spec.containers[0]!.resources;
        expect(resources?.requests, role).toHaveProperty('cpu');
        expect(resources?.requests, role).toHaveProperty('memory');
        expect(resources?.limits, role).toHaveProperty('memory');
      }
    });

    it('selects existing pods with every network policy; only DEMS reaches the services, anyone the gateway', () => {
      type Policy = KubeObject & { spec: { podSelector: LabelSelector; ingress?: { from?: { podSelector: LabelSelector }[]; ports?: { port: string }[] }[] } };
      const policies = r.ofKind<Policy>('NetworkPolicy');
      for (const p of policies) {
        const targets = r.podsSelectedBy(p.spec.podSelector);
        expect(targets.length, `${keyOf(p)} selects pods`).toBeGreaterThan(0);
        for (const rule of p.spec.ingress ?? []) {
          for (const from of rule.from ?? []) expect(r.podsSelectedBy(from.podSelector).length, `${keyOf(p)} allows existing pods`).toBeGreaterThan(0);
          for (const { port } of rule.ports ?? []) {
            for (const t of targets) expect(portOf(t.spec.template.spec.containers[0]!, port), `${keyOf(p)}: ${t.metadata.name} has port ${port}`).toBeDefined();
          }
        }
      }
      expect(
        policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress),
        'a default deny of all ingress',
      ).toBeDefined();
      /** The roles whose pods may open a connection to `role`'s pods, by the policies that select them. */
      const allowedInto = (role: Role) => {
        const pod = r.roles.get(role)!.spec.template.metadata.labels;
        const rules = policies.filter((p) => selects(p.spec.podSelector, pod)).flatMap((p) => p.spec.ingress ?? []);
        if (rules.some((rule) => !rule.from)) return 'anyone';
        return ROLES.filter((from) => rules.some((rule) => rule.from!.some((f) => selects(f.podSelector, r.roles.get(from)!.spec.template.metadata.labels)))).sort();
      };
      expect(allowedInto('gateway')).toBe('anyone');
      for (const service of SERVICES) expect(allowedInto(service), service).toEqual(['engagement', 'events', 'gateway', 'ticketing']);
    });

    it('stops gracefully: a preStop pause, then drain and timeout, all within terminationGracePeriodSeconds', () => {
      for (const [role, d] of r.roles) {
        const pod = d.spec.template.spec;
        const c = pod.containers[0]!;
        const config = loadRoleConfig(role, environment(r, c));
        const pause = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
        expect(pause, `${role}: endpoints and load balancers let go of the pod before it drains`).toBeGreaterThan(0);
        expect(config.SHUTDOWN_DRAIN_SECONDS, role).toBeGreaterThan(0);
        expect(pod.terminationGracePeriodSeconds, role).toBeGreaterThan(pause + config.SHUTDOWN_DRAIN_SECONDS + config.SHUTDOWN_TIMEOUT_SECONDS);
      }
    });

    it('runs every pod as non-root, without privilege escalation or capabilities; DEMS on a read-only root', () => {
      for (const w of r.workloads) {
        const pod = w.spec.template.spec;
        expect(pod.securityContext?.runAsNonRoot, keyOf(w)).toBe(true);
        expect(pod.securityContext?.runAsUser, keyOf(w)).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type, keyOf(w)).toBe('RuntimeDefault');
        for (const c of pod.containers) {
          expect(c.securityContext?.allowPrivilegeEscalation, keyOf(w)).toBe(false);
          expect(c.securityContext?.capabilities?.drop, keyOf(w)).toEqual(['ALL']);
          for (const m of c.volumeMounts ?? [])
            expect(
              pod.volumes?.map((v) => v.name),
              `${keyOf(w)} mounts ${m.name}`,
            ).toContain(m.name);
        }
      }
      for (const [role, d] of r.roles) {
        const pod = d.spec.template.spec;
        const c = pod.containers[0]!;
        expect(pod.securityContext?.runAsUser, `${role}: the image's user node`).toBe(1000);
        expect(c.securityContext?.readOnlyRootFilesystem, role).toBe(true);
        // Writable: DATA_DIR (/data: key caches) and /tmp, on emptyDir volumes.
        expect(c.volumeMounts?.map((m) => m.mountPath).sort(), role).toEqual(['/data', '/tmp']);
      }
    });
  });

  describe('overlay eks', () => {
    const r = render.eks;

    it('runs the image from ECR, at least two of each, on the AWS stores (DynamoDB tables, ElastiCache over TLS, S3)', () => {
      for (const [role, d] of r.roles) {
        expect(d.spec.template.spec.containers[0]!.image, role).toMatch(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/dems:[\w.-]+$/);
        expect(r.named<KubeObject & { spec: { minReplicas: number } }>('HorizontalPodAutoscaler', role)!.spec.minReplicas, role).toBeGreaterThanOrEqual(2);
        const env = environment(r, d.spec.template.spec.containers[0]!);
        expect(env.DYNAMODB_ENDPOINT, role).toBeUndefined();
        expect(env.S3_ENDPOINT, role).toBeUndefined();
        expect(env.AWS_ACCESS_KEY_ID, `${role}: credentials come from EKS Pod Identity`).toBeUndefined();
        if (role === 'gateway') continue;
        const config = loadRoleConfig(role, env);
        expect(config).toMatchObject({ STORE: 'dynamodb', TABLE_PREFIX: '', DYNAMODB_CREATE_TABLES: false });
        expect(config.REDIS_URL, role).toMatch(/^rediss:\/\//);
        expect(d.spec.template.spec.containers[0]!.env?.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef, `${role}: REDIS_URL holds a token`).toEqual({
          name: 'dems-secrets',
          key: 'REDIS_URL',
        });
      }
      expect(r.named('Namespace', 'dems')?.metadata.labels).toMatchObject({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
    });

    it('routes /, /api, /socket.io and /banners through an ALB to the gateway, WebSocket-friendly, checking /readyz', () => {
      type Ingress = KubeObject & {
        spec: { ingressClassName: string; rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] };
      };
      const [ingress, ...others] = r.ofKind<Ingress>('Ingress');
      expect(others).toEqual([]);
      expect(ingress!.spec.ingressClassName).toBe('alb');
      const a = ingress!.metadata.annotations!;
      expect(a['alb.ingress.kubernetes.io/target-type']).toBe('ip');
      expect(a['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/readyz');
      expect(a['alb.ingress.kubernetes.io/load-balancer-attributes']).toMatch(/idle_timeout\.timeout_seconds=(\d{3,})/);
      const paths = ingress!.spec.rules.flatMap((rule) => rule.http.paths);
      expect(paths.map((p) => p.path).sort()).toEqual(['/', '/api', '/banners', '/socket.io']);
      for (const p of paths) {
        expect(p.pathType).toBe('Prefix');
        const service = r.named<KubeObject & { spec: { ports: { name: string }[] } }>('Service', p.backend.service.name);
        expect(service?.metadata.name, p.path).toBe('gateway');
        expect(
          service!.spec.ports.map((port) => port.name),
          p.path,
        ).toContain(p.backend.service.port.name);
      }
      // A pod leaves the ALB (deregistration) while its preStop pause keeps it serving.
      const delay = Number(/deregistration_delay\.timeout_seconds=(\d+)/.exec(a['alb.ingress.kubernetes.io/target-group-attributes']!)![1]);
      const gateway = r.roles.get('gateway')!.spec.template.spec;
      expect(gateway.terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(delay);
    });

    it("lets only CloudFront reach the ALB, and the gateway count CloudFront and the ALB as its two proxies (the viewer's address)", () => {
      const a = r.ofKind('Ingress')[0]!.metadata.annotations!;
      // The CDK app's security group (output AlbSecurityGroupId) instead of one the controller would open to all.
      expect(a['alb.ingress.kubernetes.io/security-groups']).toMatch(/^(sg-[0-9a-f]+|replace-with-alb-security-group-id)$/);
      expect(a['alb.ingress.kubernetes.io/manage-backend-security-group-rules'], 'the controller still lets the ALB into the pods').toBe('true');
      expect(a['alb.ingress.kubernetes.io/security-group-prefix-lists'], 'no second, controller-made frontend group').toBeUndefined();
      expect(a['alb.ingress.kubernetes.io/inbound-cidrs']).toBeUndefined();
      // The ALB appends the address CloudFront reached it from (its default, pinned): one hop of the two.
      expect(a['alb.ingress.kubernetes.io/load-balancer-attributes']).toContain('routing.http.xff_header_processing.mode=append');

      const config = (role: Role) => loadRoleConfig(role, environment(r, r.roles.get(role)!.spec.template.spec.containers[0]!)) as unknown as { TRUST_PROXY: unknown };
      expect(config('gateway').TRUST_PROXY, 'the gateway: a hop count, CloudFront + ALB').toBe(2);
      // The services believe the gateway pods only (their private addresses), never a count of hops.
      for (const service of SERVICES) expect(config(service).TRUST_PROXY, service).toEqual(['uniquelocal']);
    });
  });

  describe('overlay local', () => {
    const r = render.local;

    it('runs dems:local, one of each, on DynamoDB Local, Redis and MinIO in the cluster (as compose.yaml does)', () => {
      for (const [role, d] of r.roles) {
        expect(d.spec.template.spec.containers[0]!.image, role).toBe('dems:local');
        expect(r.named<KubeObject & { spec: { minReplicas: number } }>('HorizontalPodAutoscaler', role)!.spec.minReplicas, role).toBe(1);
        const env = environment(r, d.spec.template.spec.containers[0]!);
        for (const variable of ['DYNAMODB_ENDPOINT', 'REDIS_URL', 'S3_ENDPOINT']) {
          const url = new URL(env[variable]!);
          const service = r.named<KubeObject & { spec: { ports: { port: number }[] } }>('Service', url.hostname);
          expect(
            service?.spec.ports.map((p) => p.port),
            `${role} ${variable}`,
          ).toContain(Number(url.port));
        }
        if (role === 'gateway') continue;
        expect(loadRoleConfig(role, env)).toMatchObject({ STORE: 'dynamodb', DYNAMODB_CREATE_TABLES: true });
      }
      const composeImages = new Set(
        Object.values((parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { image: string }> }).services).map((s) => s.image),
      );
      for (const w of r.workloads)
        for (const c of w.spec.template.spec.containers) if (imageName(c.image) !== 'dems') expect(composeImages, `${keyOf(w)}: the same image as compose.yaml`).toContain(c.image);
    });

    it('creates the banner bucket the services use', () => {
      const job = r.named<Workload>('Job', 's3-init')!;
      const bucket = r.named('ConfigMap', 'dems-config')!.data as Record<string, string>;
      expect(job.spec.template.spec.containers[0]!.args!.join(' ')).toContain(`mc mb --ignore-existing dems/${bucket.BANNER_BUCKET}`);
    });
  });
});
