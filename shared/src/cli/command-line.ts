// How both processes start from and give up on their command line (upstream-compatibility.md 6):
// --help prints and exits 0; a fatal error prints `error: <message>` and exits 1.
import { errorMessage } from '../text/error-message.ts';

export interface HelpRequest {
  kind: 'help';
  text: string;
}

/** Upstream's fatal-error line on stderr, then exit code 1. */
export function exitWithError(err: unknown): never {
  process.stderr.write(`error: ${errorMessage(err)}\n`);
  process.exit(1);
}

/** Parses process.argv with `parse`; handles --help and flag errors, so the caller gets only a parse result. */
export function parseCommandLine<R extends { kind: string }>(parse: (argv: string[]) => R | HelpRequest): Exclude<R, HelpRequest> {
  let parsed: R | HelpRequest;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (err) {
    exitWithError(err);
  }
  if (isHelp(parsed)) {
    process.stdout.write(parsed.text);
    process.exit(0);
  }
  return parsed as Exclude<R, HelpRequest>;
}

function isHelp(parsed: { kind: string }): parsed is HelpRequest {
  return parsed.kind === 'help';
}
