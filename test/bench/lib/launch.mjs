// The node options of a benchmarked Sluice process (before the bin.js path), shared by every
// benchmark that starts one: SLUICE_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
// or a V8 option to try ("--max-semi-space-size=64"); NODE_OPTIONS does not allow --cpu-prof.
// Sluice's launch lines (deploy/sluice.service, deploy/Dockerfile) pass none; the binary sets
// V8's old-generation growth itself (packages/cli/src/heapGrowth.ts), as in production.
export function sluiceNodeArgs() {
  return (process.env.SLUICE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}
