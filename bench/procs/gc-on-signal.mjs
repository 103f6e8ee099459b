// Preloaded (node --expose-gc --import) into the servers measured for memory:
// SIGUSR2 runs a full garbage collection, so RSS is read on a collected heap
// rather than wherever the last GC happened to leave it. Loaded into the raw ws
// baseline in the same way.
if (typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
  });
}
