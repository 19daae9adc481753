// Kubernetes time values as the API serialises them.

/** RFC 3339 at second precision, as Kubernetes serialises metav1.Time (e.g. 2026-01-02T03:04:05Z). */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
