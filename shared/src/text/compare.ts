// The one ordering of names and fingerprints: UTF-16 code units, which for the ASCII that Kubernetes
// names and hex fingerprints hold is Go's byte order (sort.Strings), so outputs match upstream's.

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
