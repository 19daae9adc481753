// Generates the chart's README values reference and values.schema.json from the comments in
// charts/trust-manager/values.yaml (conventions: scripts/chart-values-docs.ts).
//   node scripts/gen-chart-readme.ts           write README.md and values.schema.json
//   node scripts/gen-chart-readme.ts --check   exit 1 if either is out of date
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseValues, renderReadme, renderSchema } from './chart-values-docs.ts';

const chartDir = fileURLToPath(new URL('../charts/trust-manager/', import.meta.url));
const check = process.argv.includes('--check');

const model = parseValues(readFileSync(`${chartDir}values.yaml`, 'utf8'));
const readmePath = `${chartDir}README.md`;
const existing = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : undefined;
const outputs: [string, string][] = [
  [readmePath, renderReadme(existing, model)],
  [`${chartDir}values.schema.json`, renderSchema(model)],
];

let stale = 0;
for (const [path, want] of outputs) {
  const have = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (have === want) continue;
  if (check) {
    console.error(`${path} is out of date: run node scripts/gen-chart-readme.ts`);
    stale++;
  } else {
    writeFileSync(path, want);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
