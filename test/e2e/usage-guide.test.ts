// The user guide cannot rot: every example in docs/usage.md is applied here, against a real API
// server with the webhook and the controller running (both started in this process through their
// entry functions, startWebhook and startController).
//   ```yaml             admitted; every Bundle in it becomes Synced and writes its targets where its
//                       selector says (and nowhere else)
//   ```yaml denied      refused; the ```text block after it holds the message (line by line)
//   ```yaml warns       admitted with the warnings of the ```text block after it, then as ```yaml
//   ```yaml prometheus  alert rules: every trust_manager_* metric they use is one the controller serves
// The guide's namespaces (trust namespace cert-manager, source namespace team-a) are mapped to this
// test's own namespaces; the controller writes targets only into this test's namespaces.
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';

import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { createLogger } from '@trust-manager/shared/logging/logging.ts';
import { matchesLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import { buildConfig } from '@trust-manager/controller/config.ts';
import { parseFlags } from '@trust-manager/controller/flags.ts';
import { startController, type RunningController } from '@trust-manager/controller/start.ts';
import { parseWebhookFlags } from '@trust-manager/webhook/flags.ts';
import { startWebhook, type RunningWebhook } from '@trust-manager/webhook/server.ts';

import { useCluster, waitFor, type TestCluster } from '../cluster/harness.ts';
import { prepareServingEndpoint, registerLocalWebhook } from './support/local-webhook.ts';
import { PACKAGE_FILE, REPO_ROOT, writePackage } from './support/trust-manager.ts';

const GUIDE = join(REPO_ROOT, 'docs/usage.md');
const GUIDE_TRUST_NAMESPACE = 'cert-manager';
const GUIDE_SOURCE_NAMESPACE = 'team-a';
/** The namespace label the guide's selector example uses. */
const OPT_IN_LABEL = { 'example.com/trust-bundle': 'enabled' };

interface CodeBlock {
  language: string;
  flags: string[];
  text: string;
  line: number;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const match of markdown.matchAll(/^```(\S*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    blocks.push({
      language: match[1]!,
      flags: match[2]!.trim().split(/\s+/).filter(Boolean),
      text: match[3]!,
      line: markdown.slice(0, match.index).split('\n').length,
    });
  }
  return blocks;
}

let cluster: TestCluster;
let workDir: string;
let namespaces: { trust: string; team: string; optedIn: string; other: string };
let selectorLabel: Record<string, string>;
let configurationName: string | undefined;
let webhook: RunningWebhook | undefined;
let controller: RunningController | undefined;
const appliedBundles = new Set<string>();

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  workDir = mkdtempSync(join(tmpdir(), 'usage-guide-'));
  namespaces = {
    trust: await cluster.newNamespace('guide-trust'),
    team: await cluster.newNamespace('guide-team'),
    optedIn: await cluster.newNamespace('guide-apps', OPT_IN_LABEL),
    other: await cluster.newNamespace('guide-other'),
  };
  selectorLabel = { 'e2e.trust-manager.io/usage-guide': namespaces.trust };
  const log = (name: string) => createLogger({ format: 'json', verbosity: 2, destination: createWriteStream(join(workDir, `${name}.log`)) });

  const endpoint = await prepareServingEndpoint(cluster, 'trust-manager-guide', namespaces.trust, workDir);
  const webhookFlags = parseWebhookFlags([
    `--webhook-host=${endpoint.host}`,
    `--webhook-port=${endpoint.port}`,
    `--webhook-certificate-dir=${workDir}`,
    `--trust-namespace=${namespaces.trust}`,
    `--source-namespaces=${namespaces.team}`,
    '--readiness-probe-port=0',
    '--metrics-port=0',
  ]);
  assert.equal(webhookFlags.kind, 'config');
  webhook = await startWebhook(webhookFlags.config, log('webhook'));
  configurationName = await registerLocalWebhook(cluster, { service: 'trust-manager-guide', namespace: namespaces.trust, endpoint, selectorLabel });

  // The default CA package that the guide's useDefaultCAs example reads.
  const packageDir = writePackage(join(workDir, 'package'), { name: 'guide-package', version: '1', bundle: endpoint.caPem });
  const controllerFlags = parseFlags([
    `--kubeconfig=${cluster.kubeconfigPath}`,
    `--trust-namespace=${namespaces.trust}`,
    `--source-namespaces=${namespaces.team}`,
    `--target-namespaces=${Object.values(namespaces).join(',')}`,
    '--secret-targets-enabled',
    `--default-package-location=${join(packageDir, PACKAGE_FILE)}`,
    '--leader-elect=false',
    '--metrics-port=0',
    '--readiness-probe-port=0',
  ]);
  assert.equal(controllerFlags.kind, 'flags');
  controller = await startController(buildConfig(controllerFlags.flags, () => undefined), log('controller'));
});

after(async () => {
  for (const name of appliedBundles) await cluster?.kubectl(['delete', 'bundle', name, '--ignore-not-found', '--wait=false'], { allowFail: true });
  if (configurationName) await cluster.kubectl(['delete', 'validatingwebhookconfiguration', configurationName, '--ignore-not-found'], { allowFail: true });
  await controller?.stop();
  await webhook?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The guide's namespaces become this test's. */
function localise(text: string): string {
  return text
    .replaceAll(`namespace: ${GUIDE_TRUST_NAMESPACE}`, `namespace: ${namespaces.trust}`)
    .replaceAll(`namespace: ${GUIDE_SOURCE_NAMESPACE}`, `namespace: ${namespaces.team}`)
    .replaceAll(`"${GUIDE_TRUST_NAMESPACE}"`, `"${namespaces.trust}"`)
    .replaceAll(`"${GUIDE_SOURCE_NAMESPACE}"`, `"${namespaces.team}"`);
}

/** Applies a manifest block as kubectl would; Bundles get the label that routes them to this test's webhook. */
async function applyBlock(block: CodeBlock): Promise<{ code: number; stderr: string; bundles: Bundle[] }> {
  const objects = parseAllDocuments(localise(block.text)).map((document) => document.toJSON() as { kind: string; metadata: { name: string; labels?: Record<string, string> } });
  const bundles: Bundle[] = [];
  for (const object of objects) {
    if (object.kind !== 'Bundle') continue;
    object.metadata.labels = { ...object.metadata.labels, ...selectorLabel };
    appliedBundles.add(object.metadata.name);
    bundles.push(object as unknown as Bundle);
  }
  const input = objects.map((object) => JSON.stringify(object)).join('\n');
  const result = await cluster.kubectl(['apply', '-f', '-'], { input, allowFail: true });
  return { code: result.code, stderr: result.stderr, bundles };
}

function expectedLines(blocks: CodeBlock[], index: number): string[] {
  const next = blocks[index + 1];
  assert.equal(next?.language, 'text', `line ${blocks[index]!.line}: a \`\`\`text block with the expected output must follow`);
  return localise(next.text).split('\n').filter((line) => line.trim() !== '');
}

async function assertSynced(bundle: Bundle, where: string): Promise<void> {
  const name = bundle.metadata.name;
  const status = await waitFor(`Bundle ${name} (${where}) to be Synced`, async () => {
    const live = JSON.parse((await cluster.kubectl(['get', 'bundle', name, '-o', 'json'])).stdout) as Bundle;
    const synced = live.status?.conditions?.find((condition) => condition.type === 'Synced');
    if (synced?.status === 'False') throw new Error(`${synced.reason}: ${synced.message}`);
    return synced?.status === 'True' && synced.observedGeneration === live.metadata.generation ? live.status : undefined;
  });
  assert.ok((status?.certificateCount ?? 0) > 0, `${where}: status.certificateCount`);
  assert.match(status?.earliestExpiry ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, `${where}: status.earliestExpiry`);
  if (bundle.spec.sources.some((source) => source.useDefaultCAs === true)) {
    assert.match(status?.defaultCAVersion ?? '', /^guide-package-1-[0-9a-f]{16}$/, `${where}: status.defaultCAVersion`);
  }

  const target = bundle.spec.target;
  const namespaceLabels = {
    [namespaces.trust]: {},
    [namespaces.team]: {},
    [namespaces.optedIn]: OPT_IN_LABEL,
    [namespaces.other]: {},
  };
  for (const [kind, template] of [['configmap', target?.configMap], ['secret', target?.secret]] as const) {
    if (template === undefined) continue;
    for (const [namespace, labels] of Object.entries(namespaceLabels)) {
      const selected = matchesLabelSelector(target?.namespaceSelector, { ...labels, 'kubernetes.io/metadata.name': namespace });
      const found = await cluster.kubectl(['get', kind, name, '-n', namespace, '-o', 'json'], { allowFail: true });
      if (!selected) {
        assert.notEqual(found.code, 0, `${where}: no ${kind} in ${namespace}, which the selector does not select`);
        continue;
      }
      assert.equal(found.code, 0, `${where}: ${kind} ${namespace}/${name}: ${found.stderr}`);
      const object = JSON.parse(found.stdout) as { data?: Record<string, string>; binaryData?: Record<string, string> };
      const keys = [template.key, target?.additionalFormats?.jks?.key, target?.additionalFormats?.pkcs12?.key].filter((key) => key !== undefined);
      for (const key of keys) assert.ok(object.data?.[key] ?? object.binaryData?.[key], `${where}: ${kind} ${namespace}/${name} has ${key}`);
    }
  }
}

async function metricNames(): Promise<Set<string>> {
  const text = await (await fetch(`http://127.0.0.1:${controller!.metricsPort}/metrics`)).text();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
}

test('every example of docs/usage.md does what the guide says', async (t) => {
  const blocks = codeBlocks(readFileSync(GUIDE, 'utf8'));
  const examples = blocks.filter((block) => block.language === 'yaml');
  assert.ok(examples.length >= 8, `the guide's examples were found (${examples.length})`);

  for (const [index, block] of blocks.entries()) {
    if (block.language !== 'yaml') continue;
    const where = `docs/usage.md:${block.line}`;
    await t.test(where, async () => {
      const kind = block.flags[0] ?? 'admitted';
      if (kind === 'prometheus') {
        const served = await metricNames();
        const rules = (parse(block.text) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((group) => group.rules);
        assert.ok(rules.length > 0);
        for (const rule of rules) {
          const used = [...rule.expr.matchAll(/\btrust_manager_[a-z_]+/g)].map((match) => match[0]);
          assert.ok(used.length > 0, `${rule.alert} uses a trust-manager metric`);
          for (const metric of used) assert.ok(served.has(metric), `${rule.alert}: the controller serves ${metric}`);
        }
        return;
      }
      const result = await applyBlock(block);
      if (kind === 'denied') {
        assert.notEqual(result.code, 0, `${where} must be denied`);
        for (const line of expectedLines(blocks, index)) assert.ok(result.stderr.includes(line), `${where}: expected\n${line}\ngot\n${result.stderr}`);
        return;
      }
      assert.equal(result.code, 0, `${where}: ${result.stderr}`);
      if (kind === 'warns') {
        for (const line of expectedLines(blocks, index)) assert.ok(result.stderr.includes(line), `${where}: expected\n${line}\ngot\n${result.stderr}`);
      } else {
        assert.equal(kind, 'admitted', `${where}: unknown example kind ${kind}`);
        assert.doesNotMatch(result.stderr, /Warning:/, `${where}: admitted without warnings`);
      }
      for (const bundle of result.bundles) await assertSynced(bundle, where);
    });
  }
});
