// Writes the Bundle CRD chart template from shared/src/api/schema.ts.
//   node shared/scripts/gen-crd.ts          regenerate the chart file
//   node shared/scripts/gen-crd.ts --check  exit 1 if the committed file differs (CI drift check)
//   --file <path>                           another output/check path (tests)

import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { CHART_CRD_TEMPLATE_PATH, renderChartCrdTemplate } from '../src/api/crd.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const { values } = parseArgs({
  options: { check: { type: 'boolean', default: false }, file: { type: 'string', default: `${repoRoot}${CHART_CRD_TEMPLATE_PATH}` } },
});
const target = values.file;
const rendered = renderChartCrdTemplate();

if (values.check) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== rendered) {
    console.error(`error: ${target} is out of date with shared/src/api/schema.ts; run: node shared/scripts/gen-crd.ts`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  await writeFile(target, rendered);
  console.log(`wrote ${target}`);
}
