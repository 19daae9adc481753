// validate-trust-package: checks a default CA package JSON read from stdin, as upstream's command of
// the same name does (used when building the package image). Exit 1 with upstream's text on failure.
import { text } from 'node:stream/consumers';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import { parsePackageJson } from './package.ts';

try {
  parsePackageJson(await text(process.stdin));
} catch (err) {
  process.stderr.write(`failed to load and validate trust package: ${errorMessage(err)}\n`);
  process.exit(1);
}
