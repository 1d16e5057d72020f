// Preloaded into the jitgate child for the idle-session measurement (`node --expose-gc --import <this>`): SIGUSR2 runs
// a full collection and says so on stderr, so heap readings before and after opening sessions hold live data only,
// not whatever garbage the young generation happened to hold. A benchmark hook; jitgate itself has no such trigger.
process.on('SIGUSR2', () => {
  // Twice: the first pass can leave objects only a finalizer or weak callback released.
  globalThis.gc?.();
  globalThis.gc?.();
  process.stderr.write('bench-gc: done\n');
});
