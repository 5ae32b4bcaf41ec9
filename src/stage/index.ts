export { stageRootfs, readSignatures, type StageOptions, type StageResult } from './stage.js';
export { unstageRootfs, planUnstage, NothingStagedError, type UnstagePlan, type UnstageResult } from './unstage.js';
export { planStage, type PlanOptions } from './plan.js';
export { RECORD_PATH, recordSchema, type StageRecord } from './record.js';
export type { StageInput, StagePlan, PlanEntry, StageWarning, SkippedSignature, PlanAction } from './types.js';
