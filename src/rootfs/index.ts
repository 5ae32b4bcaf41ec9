export { openRootfsReader, type RootfsKind, type RootfsReader } from './reader.js';
export { detectRootfs, type RootfsLayout, type Partition } from './detect.js';
