// The V8 flags the controller process runs with, in one place: the chart's container command, the
// image's default command and the benchmark use them (tests compare). A 2 MB young-generation
// semi-space keeps RSS flat after rollouts of large targets: V8 keeps young-generation pages it grew
// during a rollout (docs/performance.md, "Controller").
export const CONTROLLER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
