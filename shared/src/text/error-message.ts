// How a caught value becomes text for a log line, a condition or an error message.

/** The message of an Error, or the value as a string for anything else that was thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
