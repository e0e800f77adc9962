/** The real-server harness moved to src/real/ports.ts (why403 test --real uses it); tests keep importing it from here. */
export * from '../../src/real/ports.js';
