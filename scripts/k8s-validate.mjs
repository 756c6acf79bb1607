// Offline checks of rendered Kubernetes manifests and of the alert rules.
// Run by scripts/check-deploy.sh from a directory that holds node_modules with
// kubernetes-models and js-yaml (it copies this file there first).
//
//   node k8s-validate.mjs schema FILE...         schema-validate every object
//   node k8s-validate.mjs probes FILE...         roster containers: probes on
//                                                /health and /ready, port 8080,
//                                                hardened securityContext; prints
//                                                "probe-path PATH" lines
//   node k8s-validate.mjs expect OVERLAY FILE    what the overlay must change
//   node k8s-validate.mjs alerts RUNBOOK RULES [PROMETHEUSRULE]
//                                                runbook_url anchors exist; the
//                                                PrometheusRule holds the same groups
//
// Exit status: 0 when every check passed, 1 otherwise.
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import * as yaml from 'js-yaml';

let failures = 0;
const fail = (msg) => { failures++; console.log(`FAIL ${msg}`); };
const ok = (msg) => console.log(`ok   ${msg}`);

const loadDocs = (file) => yaml.loadAll(fs.readFileSync(file, 'utf8')).filter(Boolean);
const id = (doc) => `${doc.kind}/${doc.metadata?.name}`;

// ---------------------------------------------------------------- schema
// models of custom resources (PrometheusRule, ServiceMonitor)
const CRD_MODELS = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

async function schema(files) {
  for (const file of files) {
    for (const doc of loadDocs(file)) {
      if (!doc.apiVersion || !doc.kind) { fail(`${file}: object without apiVersion/kind`); continue; }
      const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
      const mod = group === '' ? `kubernetes-models/${version}`
        : CRD_MODELS[group] ? `${CRD_MODELS[group]}/${group}/${version}`
        : `kubernetes-models/${group}/${version}`;
      let m;
      try {
        m = await import(mod);
      } catch {
        // a custom resource without models here
        console.log(`skip ${file}: ${id(doc)}: no schema for ${doc.apiVersion}`);
        continue;
      }
      const Cls = m[doc.kind];
      if (!Cls) { fail(`${file}: ${id(doc)}: unknown kind in ${doc.apiVersion}`); continue; }
      try {
        new Cls(doc).validate();
        ok(`${file}: ${id(doc)}`);
      } catch (e) {
        fail(`${file}: ${id(doc)}: ${String(e.message).split('\n').slice(0, 6).join(' | ')}`);
      }
    }
  }
}

// ---------------------------------------------------------------- probes
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
const podSpecOf = (doc) =>
  doc.kind === 'Pod' ? doc.spec : WORKLOADS.has(doc.kind) ? doc.spec?.template?.spec : undefined;
const isRoster = (c) => c.name === 'roster' || /(^|\/)(roster|rosterd)(:|@|$)/.test(c.image ?? '');
const envValue = (c, name) => (c.env ?? []).find((e) => e.name === name)?.value;

const WANT = { startupProbe: '/health', livenessProbe: '/health', readinessProbe: '/ready' };

function checkProbe(where, c, kind, probe, listenHost, paths) {
  const want = WANT[kind];
  if (!probe) { fail(`${where}: ${kind} missing`); return; }
  if (probe.httpGet) {
    const { path, port } = probe.httpGet;
    let portNum = port;
    if (typeof port === 'string') {
      portNum = (c.ports ?? []).find((p) => p.name === port)?.containerPort;
      if (portNum === undefined) { fail(`${where}: ${kind} names port "${port}" that the container does not declare`); return; }
    }
    if (path !== want) fail(`${where}: ${kind} httpGet path is ${path}, want ${want}`);
    else if (portNum !== 8080) fail(`${where}: ${kind} port resolves to ${portNum}, want 8080`);
    else if (listenHost === '127.0.0.1' || listenHost === 'localhost') {
      fail(`${where}: ${kind} uses httpGet but rosterd listens on ${listenHost} (the kubelet probes the pod IP)`);
    } else { ok(`${where}: ${kind} GET ${path} on 8080`); paths.add(path); }
    return;
  }
  if (probe.exec) {
    const cmd = probe.exec.command ?? [];
    const url = cmd[cmd.indexOf('--url') + 1];
    const m = /^http:\/\/(127\.0\.0\.1|localhost):(\d+)(\/[^?#]*)$/.exec(url ?? '');
    if (!/rosterd$/.test(cmd[0] ?? '') || cmd[1] !== 'healthcheck' || !m) {
      fail(`${where}: ${kind} exec must be [rosterd, healthcheck, --url, http://127.0.0.1:8080${want}], got ${JSON.stringify(cmd)}`);
    } else if (m[3] !== want || m[2] !== '8080') {
      fail(`${where}: ${kind} checks ${url}, want http://127.0.0.1:8080${want}`);
    } else { ok(`${where}: ${kind} exec healthcheck ${m[3]} on 8080`); paths.add(m[3]); }
    return;
  }
  fail(`${where}: ${kind} is neither httpGet nor exec`);
}

function checkSecurity(where, pod, c) {
  const sc = c.securityContext ?? {};
  const psc = pod.securityContext ?? {};
  const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  const uid = sc.runAsUser ?? psc.runAsUser;
  const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
  const problems = [];
  if (nonRoot !== true) problems.push('runAsNonRoot is not true');
  if (uid !== 10001) problems.push(`runAsUser is ${uid}, want 10001`);
  if (sc.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem is not true');
  if (sc.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation is not false');
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push('capabilities.drop lacks ALL');
  if (seccomp !== 'RuntimeDefault') problems.push(`seccompProfile is ${seccomp}, want RuntimeDefault`);
  if (!c.resources?.requests || !c.resources?.limits) problems.push('resources.requests/limits missing');
  if (problems.length) fail(`${where}: ${problems.join('; ')}`);
  else ok(`${where}: securityContext and resources`);
}

function probes(files) {
  const paths = new Set();
  let found = 0;
  for (const file of files) {
    for (const doc of loadDocs(file)) {
      const pod = podSpecOf(doc);
      if (!pod) continue;
      for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])].filter(isRoster)) {
        found++;
        const where = `${file}: ${id(doc)}: container ${c.name}`;
        const listen = envValue(c, 'ROSTER_LISTEN') ?? '127.0.0.1:8080';
        const [listenHost, listenPort] = [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)];
        if (listenPort !== '8080') fail(`${where}: ROSTER_LISTEN=${listen}, want port 8080`);
        for (const kind of Object.keys(WANT)) checkProbe(where, c, kind, c[kind], listenHost, paths);
        checkSecurity(where, pod, c);
        const mount = (c.volumeMounts ?? []).find((v) => v.mountPath === '/srv/roster/profiles');
        if (!mount || mount.readOnly !== true) fail(`${where}: profiles are not mounted read-only at /srv/roster/profiles`);
      }
    }
  }
  if (!found) fail(`${files.join(' ')}: no roster container found`);
  for (const p of [...paths].sort()) console.log(`probe-path ${p}`);
}

// ---------------------------------------------------------------- overlays
function expect(overlay, file) {
  const docs = loadDocs(file);
  const find = (kind, name) => docs.find((d) => d.kind === kind && (!name || d.metadata?.name === name));
  const check = (cond, msg) => (cond ? ok(`${overlay}: ${msg}`) : fail(`${overlay}: ${msg}`));
  const dep = find('Deployment');
  check(dep, 'has a Deployment');
  if (!dep) return;
  const pod = dep.spec.template.spec;
  check(dep.spec.strategy?.rollingUpdate?.maxUnavailable === 0, 'RollingUpdate maxUnavailable is 0');
  if (overlay === 'base' || overlay === 'production') {
    for (const kind of ['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'ConfigMap']) {
      check(find(kind), `has a ${kind}`);
    }
    const hpa = find('HorizontalPodAutoscaler');
    check(hpa?.apiVersion === 'autoscaling/v2', 'HPA is autoscaling/v2');
    check(hpa?.spec?.scaleTargetRef?.name === dep.metadata.name, 'HPA targets the Deployment');
    const svc = find('Service');
    check(svc?.spec?.ports?.some((p) => p.targetPort === 'http' || p.targetPort === 8080), 'Service targets port http/8080');
    if (overlay === 'production') {
      check(dep.spec.replicas === 3, 'replicas is 3');
      check(hpa?.spec?.minReplicas === 3, 'HPA minReplicas is 3');
      check(pod.affinity?.podAntiAffinity, 'podAntiAffinity is set');
      // one history store that every replica shares (docs/versions.md)
      const roster = (pod.containers ?? []).find(isRoster) ?? {};
      const dir = envValue(roster, 'ROSTER_HISTORY_DIR');
      const mount = (roster.volumeMounts ?? []).find((m) => m.mountPath === dir);
      const vol = (pod.volumes ?? []).find((v) => v.name === mount?.name);
      const pvc = find('PersistentVolumeClaim', vol?.persistentVolumeClaim?.claimName);
      check(dir && mount && !mount.readOnly, 'roster gets --history-dir (ROSTER_HISTORY_DIR) on a writable mount');
      check(pvc?.spec?.accessModes?.includes('ReadWriteMany'), 'the history volume is a ReadWriteMany PersistentVolumeClaim');
    }
  }
  if (overlay === 'sidecar') {
    const roster = (pod.initContainers ?? []).find(isRoster);
    check(roster?.restartPolicy === 'Always', 'roster is a native sidecar (initContainers, restartPolicy Always)');
    check(envValue(roster ?? {}, 'ROSTER_LISTEN') === '127.0.0.1:8080', 'roster listens on 127.0.0.1:8080');
    check((pod.containers ?? []).some((c) => c.name === 'orchestrator'), 'pod has an orchestrator container');
    check(!find('Service') && !find('NetworkPolicy'), 'no Service or NetworkPolicy exposes the loopback listener');
  }
}

// ---------------------------------------------------------------- alerts
// GitHub's heading anchors: lower case, punctuation dropped, spaces to '-',
// repeats get -1, -2, ...; explicit <a id="..."> / <a name="..."> count too.
function runbookAnchors(file) {
  const anchors = new Set();
  const seen = new Map();
  let fence = null;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f) { if (!fence) fence = f[1][0]; else if (f[1][0] === fence) fence = null; continue; }
    if (fence) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  }
  return anchors;
}

function alerts(runbook, rulesFile, crFile) {
  const anchors = runbookAnchors(runbook);
  const rules = yaml.load(fs.readFileSync(rulesFile, 'utf8'));
  let count = 0;
  for (const group of rules?.groups ?? []) {
    for (const rule of group.rules ?? []) {
      if (!rule.alert) continue;
      count++;
      const url = rule.annotations?.runbook_url ?? '';
      const m = /(?:^|\/)docs\/runbook\.md#([\w-]+)$/.exec(url);
      if (!rule.labels?.severity) fail(`${rule.alert}: no severity label`);
      if (!rule.annotations?.summary) fail(`${rule.alert}: no summary annotation`);
      if (!m) fail(`${rule.alert}: runbook_url "${url}" does not point to docs/runbook.md#anchor`);
      else if (!anchors.has(m[1])) fail(`${rule.alert}: anchor #${m[1]} not found in ${runbook}`);
      else ok(`${rule.alert}: runbook ${runbook}#${m[1]}`);
    }
  }
  if (!count) fail(`${rulesFile}: no alerts`);
  // links inside the runbook to its own sections
  for (const m of fs.readFileSync(runbook, 'utf8').matchAll(/\]\(#([^)\s]+)\)/g)) {
    if (!anchors.has(m[1])) fail(`${runbook}: link to #${m[1]} has no matching heading`);
  }
  if (crFile) {
    const cr = yaml.load(fs.readFileSync(crFile, 'utf8'));
    if (cr?.kind !== 'PrometheusRule') fail(`${crFile}: not a PrometheusRule`);
    else if (!isDeepStrictEqual(cr.spec?.groups, rules.groups)) {
      fail(`${crFile}: spec.groups differs from ${rulesFile} (regenerate: scripts/check-deploy.sh --sync-prometheusrule)`);
    } else ok(`${crFile}: same groups as ${rulesFile}`);
  }
}

// ---------------------------------------------------------------- main
const [mode, ...args] = process.argv.slice(2);
switch (mode) {
  case 'schema': await schema(args); break;
  case 'probes': probes(args); break;
  case 'expect': expect(args[0], args[1]); break;
  case 'alerts': alerts(args[0], args[1], args[2]); break;
  default:
    console.error('usage: k8s-validate.mjs schema|probes|expect|alerts ...');
    process.exit(2);
}
process.exit(failures ? 1 : 0);
