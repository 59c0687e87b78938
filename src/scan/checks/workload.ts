// Workload checks over every pod template (controllers) and bare pod: Pod Security Standards
// (baseline and restricted), container hardening, images, resources, probes, secrets in env,
// service-account tokens and disruption budgets.
import { emptyK8sInventory } from '../inventory.js';
import { secretInEnv } from '../secrets.js';
import type { Check, Finding, Inventory, K8sInventory, Workload } from '../types.js';
import { cis, k8sDoc, nsa, pss } from './refs.js';
import { type Container, containersOf, selectorMatches, workloadFinding } from './util.js';

const BASELINE_CAPS = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Pod']);

function workloads(inv: Inventory): Workload[] {
  return inv.k8s?.workloads ?? [];
}

function isWindows(w: Workload): boolean {
  return w.podSpec?.os?.name === 'windows';
}

/** The effective value of a field that a container may set and the pod may default. */
function eff<T>(w: Workload, c: Container, key: string): T | undefined {
  const v = c?.securityContext?.[key];
  return (v !== undefined ? v : w.podSpec?.securityContext?.[key]) as T | undefined;
}

/** One finding per offending container (or per pod for pod-level controls). */
function perContainer(
  id: string,
  sev: Finding['severity'],
  test: (w: Workload, c: Container) => string | undefined,
  opts: { skipWindows?: boolean; containersOnly?: boolean } = {},
): (inv: Inventory) => Finding[] {
  return (inv) => {
    const out: Finding[] = [];
    for (const w of workloads(inv)) {
      if (opts.skipWindows && isWindows(w)) continue;
      for (const { c, kind } of containersOf(w.podSpec)) {
        if (opts.containersOnly && kind !== 'container') continue;
        const msg = test(w, c);
        if (msg) out.push(workloadFinding(w, id, sev, `${kind} "${c?.name ?? '?'}" ${msg}`, c?.name));
      }
    }
    return out;
  };
}

function imageTag(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tag = colon > slash ? ref.slice(colon + 1) : undefined;
  const out: { tag?: string; digest?: string } = {};
  if (tag) out.tag = tag;
  if (digest) out.digest = digest;
  return out;
}

/** Bindings of a service account: RoleBindings in its namespace, ClusterRoleBindings, group subjects. */
export function bindingsOfServiceAccount(k: K8sInventory, ns: string, sa: string): string[] {
  const out: string[] = [];
  const hit = (subjects: unknown, bindingNs?: string): boolean =>
    Array.isArray(subjects) &&
    subjects.some((s: { kind?: string; name?: string; namespace?: string }) => {
      if (s.kind === 'ServiceAccount') return s.name === sa && (s.namespace ?? bindingNs) === ns;
      if (s.kind === 'Group') return s.name === 'system:serviceaccounts' || s.name === `system:serviceaccounts:${ns}`;
      return false;
    });
  for (const b of k.roleBindings)
    if (b.metadata?.namespace === ns && hit(b.subjects, ns)) out.push(`RoleBinding/${ns}/${b.metadata?.name}`);
  for (const b of k.clusterRoleBindings) {
    // The apiserver's own discovery/public-info bindings for all authenticated users are not "permissions".
    if ((b.metadata?.name ?? '').startsWith('system:')) continue;
    if (hit(b.subjects)) out.push(`ClusterRoleBinding/${b.metadata?.name}`);
  }
  return out;
}

export const workloadChecks: Check[] = [
  {
    id: 'HIVE-PSS-001',
    severity: 'critical',
    scope: 'k8s',
    title: 'Privileged container',
    why: 'A privileged container has every capability and all host devices: escaping to the node is trivial.',
    remediation: 'Remove securityContext.privileged (or set it to false).',
    frameworks: ['pss-baseline', 'pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('baseline', 'Privileged Containers'),
      cis('5.2.2', 'Minimize the admission of privileged containers'),
      nsa('Pod security'),
    ],
    run: perContainer('HIVE-PSS-001', 'critical', (_w, c) =>
      c?.securityContext?.privileged === true ? 'runs privileged' : undefined,
    ),
  },
  {
    id: 'HIVE-PSS-002',
    severity: 'high',
    scope: 'k8s',
    title: 'Host namespaces shared',
    why: 'hostNetwork, hostPID or hostIPC let the pod see and talk to everything on the node.',
    remediation: 'Remove hostNetwork, hostPID and hostIPC from the pod spec.',
    frameworks: ['pss-baseline', 'pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('baseline', 'Host Namespaces'),
      cis('5.2.3-5.2.5', 'Minimize the admission of containers sharing host PID, IPC or network namespaces'),
    ],
    run: (inv) =>
      workloads(inv).flatMap((w) => {
        const shared = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => w.podSpec?.[k] === true);
        return shared.length ? [workloadFinding(w, 'HIVE-PSS-002', 'high', `pod shares ${shared.join(', ')}`)] : [];
      }),
  },
  {
    id: 'HIVE-PSS-003',
    severity: 'high',
    scope: 'k8s',
    title: 'hostPath volume',
    why: "A hostPath volume exposes the node's filesystem; a writable one is a direct path to node compromise.",
    remediation: 'Use an emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume instead of hostPath.',
    frameworks: ['pss-baseline', 'pss-restricted', 'cis-workload', 'nsa'],
    references: [pss('baseline', 'HostPath Volumes'), cis('5.2.12', 'Minimize the admission of HostPath volumes')],
    run: (inv) =>
      workloads(inv).flatMap((w) =>
        (w.podSpec?.volumes ?? [])
          .filter((v: Container) => v?.hostPath)
          .map((v: Container) => ({
            ...workloadFinding(
              w,
              'HIVE-PSS-003',
              'high',
              `volume "${v.name}" mounts host path ${v.hostPath?.path ?? '?'}`,
            ),
            key: String(v.name),
          })),
      ),
  },
  {
    id: 'HIVE-PSS-004',
    severity: 'high',
    scope: 'k8s',
    title: 'Capabilities added beyond the baseline set',
    why: 'Capabilities such as SYS_ADMIN or NET_ADMIN give near-root power over the node kernel.',
    remediation:
      'Remove the capability from securityContext.capabilities.add; only NET_BIND_SERVICE is needed by most services.',
    frameworks: ['pss-baseline', 'pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('baseline', 'Capabilities'),
      cis('5.2.9', 'Minimize the admission of containers with added capabilities'),
    ],
    run: perContainer('HIVE-PSS-004', 'high', (_w, c) => {
      const extra = ((c?.securityContext?.capabilities?.add ?? []) as string[]).filter(
        (cap) => !BASELINE_CAPS.has(String(cap).replace(/^CAP_/, '')),
      );
      return extra.length ? `adds capabilities ${extra.join(', ')}` : undefined;
    }),
  },
  {
    id: 'HIVE-PSS-005',
    severity: 'medium',
    scope: 'k8s',
    title: 'Capabilities not dropped',
    why: 'The restricted profile requires dropping ALL capabilities and adding back at most NET_BIND_SERVICE.',
    remediation:
      'Set securityContext.capabilities.drop: ["ALL"] and add only NET_BIND_SERVICE if the process binds a low port.',
    frameworks: ['pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('restricted', 'Capabilities'),
      cis('5.2.10', 'Minimize the admission of containers with capabilities assigned'),
    ],
    run: perContainer(
      'HIVE-PSS-005',
      'medium',
      (_w, c) => {
        const drop = ((c?.securityContext?.capabilities?.drop ?? []) as string[]).map(String);
        const add = ((c?.securityContext?.capabilities?.add ?? []) as string[]).map((s) =>
          String(s).replace(/^CAP_/, ''),
        );
        if (!drop.includes('ALL')) return 'does not drop ALL capabilities';
        const extra = add.filter((a) => a !== 'NET_BIND_SERVICE');
        return extra.length ? `adds back ${extra.join(', ')}` : undefined;
      },
      { skipWindows: true },
    ),
  },
  {
    id: 'HIVE-PSS-006',
    severity: 'high',
    scope: 'k8s',
    title: 'Container may run as root',
    why: 'A process running as UID 0 turns any container escape or writable host mount into root on the node.',
    remediation:
      'Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser in the image or spec.',
    frameworks: ['pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('restricted', 'Running as Non-root'),
      cis('5.2.7', 'Minimize the admission of root containers'),
      nsa('Use containers built to run applications as non-root users'),
    ],
    run: perContainer(
      'HIVE-PSS-006',
      'high',
      (w, c) => {
        if (eff<number>(w, c, 'runAsUser') === 0) return 'runs as UID 0';
        if (eff<boolean>(w, c, 'runAsNonRoot') !== true) return 'does not set runAsNonRoot: true';
        return undefined;
      },
      { skipWindows: true },
    ),
  },
  {
    id: 'HIVE-PSS-007',
    severity: 'high',
    scope: 'k8s',
    title: 'Privilege escalation allowed',
    why: 'Without allowPrivilegeEscalation: false a process can gain more privileges than its parent (setuid binaries).',
    remediation: 'Set securityContext.allowPrivilegeEscalation: false on every container.',
    frameworks: ['pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('restricted', 'Privilege Escalation'),
      cis('5.2.6', 'Minimize the admission of containers with allowPrivilegeEscalation'),
    ],
    run: perContainer(
      'HIVE-PSS-007',
      'high',
      (_w, c) =>
        c?.securityContext?.allowPrivilegeEscalation === false
          ? undefined
          : 'does not set allowPrivilegeEscalation: false',
      { skipWindows: true },
    ),
  },
  {
    id: 'HIVE-PSS-008',
    severity: 'medium',
    scope: 'k8s',
    title: 'No seccomp profile',
    why: 'Without RuntimeDefault (or a Localhost profile) every syscall is open to the container, widening the kernel attack surface.',
    remediation: 'Set securityContext.seccompProfile.type: RuntimeDefault on the pod.',
    frameworks: ['pss-restricted', 'cis-workload', 'nsa'],
    references: [
      pss('restricted', 'Seccomp'),
      cis('5.7.2', 'Ensure that the seccomp profile is set to docker/default in your pod definitions'),
    ],
    run: perContainer(
      'HIVE-PSS-008',
      'medium',
      (w, c) => {
        const t = eff<{ type?: string }>(w, c, 'seccompProfile')?.type;
        if (t === 'RuntimeDefault' || t === 'Localhost') return undefined;
        return t === 'Unconfined' ? 'sets seccomp Unconfined' : 'has no seccomp profile (RuntimeDefault)';
      },
      { skipWindows: true },
    ),
  },
  {
    id: 'HIVE-PSS-010',
    severity: 'medium',
    scope: 'k8s',
    title: 'Host port',
    why: "A hostPort binds the node's network interface, bypassing Services and NetworkPolicies.",
    remediation: 'Remove ports[].hostPort and expose the container through a Service.',
    frameworks: ['pss-baseline', 'pss-restricted', 'cis-workload'],
    references: [
      pss('baseline', 'Host Ports'),
      cis('5.2.13', 'Minimize the admission of containers which use HostPorts'),
    ],
    run: perContainer('HIVE-PSS-010', 'medium', (_w, c) => {
      const ports = ((c?.ports ?? []) as Container[]).filter((p) => Number(p?.hostPort ?? 0) > 0);
      return ports.length ? `binds host port ${ports.map((p) => p.hostPort).join(', ')}` : undefined;
    }),
  },
  {
    id: 'HIVE-PSS-011',
    severity: 'high',
    scope: 'k8s',
    title: 'Unsafe AppArmor, SELinux, /proc mount or sysctl',
    why: 'Unconfined AppArmor, custom SELinux types or users, an unmasked /proc or unsafe sysctls weaken the isolation the baseline profile guarantees.',
    remediation:
      'Remove the override (appArmorProfile Unconfined, seLinuxOptions type/user/role, procMount Unmasked, unsafe sysctls).',
    frameworks: ['pss-baseline', 'pss-restricted'],
    references: [pss('baseline', 'AppArmor, SELinux, /proc Mount Type, Sysctls')],
    run: (inv) => {
      const out: Finding[] = [];
      for (const w of workloads(inv)) {
        const psc = w.podSpec?.securityContext ?? {};
        const bad: string[] = [];
        for (const s of (psc.sysctls ?? []) as { name?: string }[])
          if (!SAFE_SYSCTLS.has(String(s?.name))) bad.push(`unsafe sysctl ${s?.name}`);
        if (psc.appArmorProfile?.type === 'Unconfined') bad.push('pod AppArmor Unconfined');
        const se = psc.seLinuxOptions;
        if (
          se &&
          (se.user ||
            se.role ||
            (se.type &&
              !['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(se.type)))
        )
          bad.push('custom pod SELinux options');
        for (const [k, v] of Object.entries(w.templateAnnotations))
          if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v === 'unconfined')
            bad.push(`AppArmor unconfined for ${k.split('/')[1]}`);
        for (const { c } of containersOf(w.podSpec)) {
          const sc = c?.securityContext ?? {};
          if (sc.procMount && sc.procMount !== 'Default') bad.push(`container "${c.name}" procMount ${sc.procMount}`);
          if (sc.appArmorProfile?.type === 'Unconfined') bad.push(`container "${c.name}" AppArmor Unconfined`);
          const cse = sc.seLinuxOptions;
          if (
            cse &&
            (cse.user ||
              cse.role ||
              (cse.type &&
                !['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(cse.type)))
          )
            bad.push(`container "${c.name}" custom SELinux options`);
        }
        if (bad.length) out.push(workloadFinding(w, 'HIVE-PSS-011', 'high', bad.join('; ')));
      }
      return out;
    },
  },
  {
    id: 'HIVE-PSS-012',
    severity: 'medium',
    scope: 'k8s',
    title: 'Volume type not allowed by the restricted profile',
    why: 'The restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.',
    remediation: 'Replace the volume with one of the allowed types (a PersistentVolumeClaim for storage).',
    frameworks: ['pss-restricted'],
    references: [pss('restricted', 'Volume Types')],
    run: (inv) =>
      workloads(inv).flatMap((w) =>
        ((w.podSpec?.volumes ?? []) as Container[]).flatMap((v) => {
          const type = Object.keys(v ?? {}).find((k) => k !== 'name');
          // hostPath is reported by HIVE-PSS-003 already.
          if (!type || RESTRICTED_VOLUMES.has(type) || type === 'hostPath') return [];
          return [
            {
              ...workloadFinding(w, 'HIVE-PSS-012', 'medium', `volume "${v.name}" has type ${type}`),
              key: String(v.name),
            },
          ];
        }),
      ),
  },
  {
    id: 'HIVE-POD-001',
    severity: 'medium',
    scope: 'k8s',
    title: 'Root filesystem writable',
    why: 'A writable root filesystem lets an attacker drop tools and persist changes inside the container.',
    remediation: 'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process must write.',
    frameworks: ['cis-workload', 'nsa'],
    references: [
      nsa('Immutable container file systems'),
      k8sDoc('Kubernetes: configure a security context', 'tasks/configure-pod-container/security-context/'),
    ],
    run: perContainer(
      'HIVE-POD-001',
      'medium',
      (_w, c) => (c?.securityContext?.readOnlyRootFilesystem === true ? undefined : 'has a writable root filesystem'),
      { skipWindows: true },
    ),
  },
  {
    id: 'HIVE-IMG-001',
    severity: 'medium',
    scope: 'k8s',
    title: 'Image tagged latest or untagged',
    why: '`latest` (or no tag) means a restart can run different code than was reviewed, and a rollback cannot go back.',
    remediation: 'Pin a version tag, or better an image digest (image@sha256:...).',
    frameworks: ['cis-workload', 'nsa'],
    references: [
      k8sDoc('Kubernetes: images, image names and tags', 'concepts/containers/images/#image-names'),
      nsa('Threat detection and supply chain'),
    ],
    run: perContainer('HIVE-IMG-001', 'medium', (_w, c) => {
      const img = String(c?.image ?? '');
      if (!img) return 'has no image';
      const { tag, digest } = imageTag(img);
      if (digest) return undefined;
      if (!tag) return `image ${img} has no tag (means latest)`;
      return tag === 'latest' ? `image ${img} is tagged latest` : undefined;
    }),
  },
  {
    id: 'HIVE-IMG-002',
    severity: 'low',
    scope: 'k8s',
    title: 'Image not pinned by digest',
    why: 'A tag can be moved to other content; only a digest names exactly the image that was scanned and approved.',
    remediation: 'Reference the image as name@sha256:<digest> (a tag may stay in front of it: name:1.2.3@sha256:...).',
    frameworks: ['nsa'],
    references: [k8sDoc('Kubernetes: images, image names and tags', 'concepts/containers/images/#image-names')],
    run: perContainer('HIVE-IMG-002', 'low', (_w, c) => {
      const img = String(c?.image ?? '');
      const { tag, digest } = imageTag(img);
      // untagged/latest is HIVE-IMG-001's finding already
      if (digest || !tag || tag === 'latest') return undefined;
      return `image ${img} is not pinned by digest`;
    }),
  },
  {
    id: 'HIVE-POD-002',
    severity: 'medium',
    scope: 'k8s',
    title: 'No CPU or memory requests',
    why: 'Without requests the scheduler over-packs nodes and the pod is first to be evicted under pressure.',
    remediation: 'Set resources.requests.cpu and resources.requests.memory on every container.',
    frameworks: ['nsa'],
    references: [
      nsa('Pod security: resource policies'),
      k8sDoc('Kubernetes: resource management', 'concepts/configuration/manage-resources-containers/'),
    ],
    run: perContainer(
      'HIVE-POD-002',
      'medium',
      (_w, c) => {
        const r = c?.resources?.requests ?? {};
        const miss = ['cpu', 'memory'].filter((k) => r[k] === undefined || r[k] === null || r[k] === '');
        return miss.length ? `has no ${miss.join(' and ')} request` : undefined;
      },
      { containersOnly: true },
    ),
  },
  {
    id: 'HIVE-POD-003',
    severity: 'medium',
    scope: 'k8s',
    title: 'No memory limit',
    why: 'A container without a memory limit can exhaust the node and take its neighbours down (noisy neighbour, denial of service).',
    remediation: 'Set resources.limits.memory on every container (a CPU limit is optional).',
    frameworks: ['nsa'],
    references: [
      nsa('Pod security: resource policies'),
      k8sDoc('Kubernetes: resource management', 'concepts/configuration/manage-resources-containers/'),
    ],
    run: perContainer(
      'HIVE-POD-003',
      'medium',
      (_w, c) => (c?.resources?.limits?.memory ? undefined : 'has no memory limit'),
      { containersOnly: true },
    ),
  },
  {
    id: 'HIVE-POD-004',
    severity: 'low',
    scope: 'k8s',
    title: 'No readiness or liveness probe',
    why: 'Without a readiness probe traffic reaches pods that are not ready; without a liveness probe a hung process is never restarted.',
    remediation:
      'Add readinessProbe and livenessProbe (httpGet, tcpSocket, grpc or exec) to every long-running container.',
    frameworks: [],
    references: [
      k8sDoc(
        'Kubernetes: liveness, readiness and startup probes',
        'concepts/configuration/liveness-readiness-startup-probes/',
      ),
    ],
    run: (inv) => {
      const out: Finding[] = [];
      for (const w of workloads(inv)) {
        if (!LONG_RUNNING.has(w.kind)) continue;
        for (const c of (w.podSpec?.containers ?? []) as Container[]) {
          const miss = ['readinessProbe', 'livenessProbe'].filter((p) => !c?.[p]);
          if (miss.length)
            out.push(
              workloadFinding(w, 'HIVE-POD-004', 'low', `container "${c?.name}" has no ${miss.join(' or ')}`, c?.name),
            );
        }
      }
      return out;
    },
  },
  {
    id: 'HIVE-SEC-001',
    severity: 'high',
    scope: 'k8s',
    title: 'Secret value in an environment literal',
    why: 'A secret written into the pod spec is readable by anyone who can read the workload, lands in Git, manifests and backups, and never rotates.',
    remediation:
      'Move the value into a Secret and reference it with env[].valueFrom.secretKeyRef (or mount it as a file), then rotate it.',
    frameworks: ['cis-workload', 'nsa'],
    references: [
      cis('5.4.1', 'Prefer using secrets as files over secrets as environment variables'),
      nsa('Secrets'),
      k8sDoc('Kubernetes: good practices for Secrets', 'concepts/security/secrets-good-practices/'),
    ],
    run: (inv) => {
      const out: Finding[] = [];
      for (const w of workloads(inv)) {
        for (const { c, kind } of containersOf(w.podSpec)) {
          for (const e of (c?.env ?? []) as { name?: string; value?: unknown }[]) {
            if (typeof e?.value !== 'string') continue;
            const hit = secretInEnv(String(e.name ?? ''), e.value);
            if (hit)
              out.push({
                ...workloadFinding(
                  w,
                  'HIVE-SEC-001',
                  hit.strong ? 'critical' : 'high',
                  `${kind} "${c?.name}" env ${e.name}: ${hit.reason}`,
                  c?.name,
                ),
                key: String(e.name),
              });
          }
        }
      }
      return out;
    },
  },
  {
    id: 'HIVE-POD-005',
    severity: 'low',
    scope: 'k8s',
    title: 'Service-account token mounted but not needed',
    why: 'The pod gets an API token although its ServiceAccount has no RBAC bindings; a stolen token is still a foothold (discovery, and any permissions added later).',
    remediation: 'Set automountServiceAccountToken: false on the pod (or on its ServiceAccount).',
    frameworks: ['cis-rbac', 'nsa'],
    references: [
      cis('5.1.6', 'Ensure that Service Account Tokens are only mounted where necessary'),
      nsa('Authentication and authorization'),
    ],
    run: (inv) => {
      const k = inv.k8s;
      if (!k) return [];
      const out: Finding[] = [];
      for (const w of k.workloads) {
        if (w.podSpec?.automountServiceAccountToken === false) continue;
        const saName = w.podSpec?.serviceAccountName ?? w.podSpec?.serviceAccount ?? 'default';
        const sa = k.serviceAccounts.find((s) => s.metadata?.namespace === w.namespace && s.metadata?.name === saName);
        if (sa && sa.automountServiceAccountToken === false && w.podSpec?.automountServiceAccountToken !== true)
          continue;
        if (bindingsOfServiceAccount(k, w.namespace, saName).length > 0) continue;
        out.push(
          workloadFinding(
            w,
            'HIVE-POD-005',
            'low',
            `mounts the token of ServiceAccount ${w.namespace}/${saName}, which has no RBAC bindings`,
          ),
        );
      }
      return out;
    },
  },
  {
    id: 'HIVE-POD-006',
    severity: 'medium',
    scope: 'k8s',
    title: 'Multi-replica workload without a PodDisruptionBudget',
    why: 'A node drain or cluster upgrade may evict every replica at once, turning a redundant service into an outage.',
    remediation: 'Add a PodDisruptionBudget selecting the pods (e.g. maxUnavailable: 1 or minAvailable: N-1).',
    frameworks: [],
    references: [k8sDoc('Kubernetes: specifying a disruption budget', 'tasks/run-application/configure-pdb/')],
    run: (inv) => {
      const k = inv.k8s;
      if (!k) return [];
      const out: Finding[] = [];
      for (const w of k.workloads) {
        if (!['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController'].includes(w.kind)) continue;
        if (w.replicas < 2) continue;
        const covered = k.pdbs.some(
          (p) => p.metadata?.namespace === w.namespace && selectorMatches(p.spec?.selector, w.podLabels),
        );
        if (!covered)
          out.push(
            workloadFinding(
              w,
              'HIVE-POD-006',
              'medium',
              `${w.replicas} replicas and no PodDisruptionBudget selects them`,
            ),
          );
      }
      return out;
    },
  },
];

/** The Pod Security Standards level a workload satisfies: what its namespace could enforce. */
export function pssLevelOf(w: Workload): 'restricted' | 'baseline' | 'privileged' {
  const inv: Inventory = { k8s: { ...emptyK8sInventory('manifests'), workloads: [w] } };
  const fails = (ids: string[]) =>
    workloadChecks.filter((c) => ids.includes(c.id)).some((c) => c.run(inv).some((f) => f.message !== ''));
  // Baseline: the PSS baseline controls (seccomp only fails baseline when explicitly Unconfined).
  const baselineFail =
    fails(['HIVE-PSS-001', 'HIVE-PSS-002', 'HIVE-PSS-003', 'HIVE-PSS-004', 'HIVE-PSS-010', 'HIVE-PSS-011']) ||
    containersOf(w.podSpec).some(({ c }) => eff<{ type?: string }>(w, c, 'seccompProfile')?.type === 'Unconfined');
  if (baselineFail) return 'privileged';
  if (fails(['HIVE-PSS-005', 'HIVE-PSS-006', 'HIVE-PSS-007', 'HIVE-PSS-008', 'HIVE-PSS-012'])) return 'baseline';
  return 'restricted';
}
