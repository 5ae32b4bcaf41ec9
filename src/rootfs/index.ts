export { openRootfsReader, type RootfsKind, type RootfsReader } from './reader.js';
export { detectRootfs, type RootfsLayout, type Partition } from './detect.js';
export { openRootfsTarget, type RootfsTarget, type TargetKind, type TargetOptions } from './target.js';
export type { VerityResult } from './verity.js';
