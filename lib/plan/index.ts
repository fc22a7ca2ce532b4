// The memory planner's public surface: plan a model + optimizer, render the plan, and the
// building blocks (presets, the core's allocation rules) for callers with their own models.
export { planMemory, PlanInput, MemoryPlan, MemoryBreakdown, ShapeSpec, WeightDtype } from './planner';
export { planTable, planJson, formatBytes, parseBytes } from './format';
export { runPlanCommand, planInputFromArgs, PLAN_USAGE } from './cli';
export { LLAMA_PRESETS, LlamaConfig, ParamSpec, llamaParams, presetConfig, countParams } from './llama-presets';
export { METHOD_NAMES, methodGroups } from './methods';
export { ConfigurationName, CONFIGURATIONS } from '../methods/configurations';
export { GroupPlanOptions, groupOptions, DEFAULT_GROUP_OPTIONS } from './group-options';
export { paramState, ParamStateBytes } from './core-allocation';
export { planOptimizerState, planWorkspace, OptimizerStatePlan, PlannedGroup, PlannedParam } from './optimizer-state';
export { activationBytes, trainerActivationBytes, ActivationBreakdown, ActivationOptions } from './activations';
export { frugalStateRatios, galoreEstimates, grass13bPlans, paperTablesMarkdown } from './paper-tables';
