// The V8 flags the controller process runs with, in one place: the chart's container command, the
// image's default command, the image's code-cache run (V8 keys its code cache by the flags) and the
// benchmarks use them (tests compare).
// - A 1 MB young-generation semi-space and --optimize-for-size: unless told to favour size, V8 keeps
//   committed the heap pages it grew during a rollout of large targets. Side by side at 1,000 namespaces,
//   after the rollouts: RSS 105-106 -> 91-92 MB, same CPU (in one watched rollout V8's heap stayed at
//   33.7 MB committed, 23.4 MB with the flag).
// - No optimizing compilers (Maglev, TurboFan): the controller waits on the API server, not on its own
//   JavaScript, and their code in the `node` executable is then never paged in. Side by side at 1,000
//   namespaces, four runs each against `--max-semi-space-size=2` alone: RSS at idle 82 -> 72 MB, after the
//   rollouts 109-115 -> 96-98 MB, after a restart 85-90 -> 75-83 MB; CPU for 2,000 writes 2.9-4.1 ->
//   3.4-4.2 s, update time unchanged (docs/performance.md, "Controller").
// - Nor the baseline compiler (Sparkplug): V8's interpreter alone runs the controller. Its baseline code
//   is anonymous memory that V8 keeps; side by side at 1,000 namespaces, two runs each, anonymous memory
//   at idle 24 -> 22-23 MB and after a restart 26-27 -> 25 MB, CPU for 2,000 writes 8.5-9.5 -> 8.3-9.2 s.
//   WebAssembly (Node's fetch) still works, unlike with --jitless.
export const CONTROLLER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size', '--no-maglev', '--no-turbofan', '--no-sparkplug'];

// The webhook's, used the same way (chart command, code-cache run, benchmark). Admission bodies of up to 4 MiB are
// parsed into short-lived strings and objects: a 1 MB semi-space and --optimize-for-size keep V8 from
// growing (and keeping) the heap for them; under sustained 200-certificate admissions RSS stayed near
// 120 MB instead of nearly 300 MB (docs/performance.md, "Webhook").
export const WEBHOOK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

// glibc's allocator settings, for both processes: the operator image sets them (Dockerfile ENV) and the
// benchmarks pass them. Node allocates request bodies, TLS records and target bodies of up to a few MB
// with malloc; by default glibc serves them from its heap, raises its mmap threshold after each large
// free, and keeps what was freed. Blocks of 16 KiB and more mmapped, and the heap trimmed above 64 KiB
// free, the memory goes back to the system when the work is done: the idle controller 102 -> 88 MB,
// the webhook a minute after a burst of 4 MiB admissions 117-142 -> 95-98 MB (docs/performance.md).
export const GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=16384:glibc.malloc.trim_threshold=65536';
