export {
  runQuickstart,
  type QuickstartOptions,
  type QuickstartResult,
  type QuickstartStep,
  type QuickstartStepId,
} from './run.js';
export { DEFAULT_QUICKSTART_DIR, QUICKSTART_FILES } from './layout.js';
export { nextSteps, type NextStep } from './next-steps.js';
export type { TargetState } from './target-dir.js';
export { planQuickstart, type QuickstartPlan } from './plan.js';
