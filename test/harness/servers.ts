/** The real-server harness moved to src/real/servers.ts (why403 test --real uses it); tests keep importing it from here. */
export * from '../../src/real/servers.js';
