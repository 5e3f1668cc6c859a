// The typed library behind the `es1` command, for pipelines written in TypeScript: open stacks of
// this project, run operations on several at once, and get reports instead of CLI text.
// docs/pipelines.md describes the reports, exit codes and commands.
export type { ConfigSetting } from "./config-settings";
export { parseSetting, qualifyKey } from "./config-settings";
export type { RunOptions, StackRun } from "./operations";
export {
  applySettings,
  createsStack,
  failedReport,
  readOutputs,
  runOperation,
  structuredConfig,
  stackOperation,
} from "./operations";
export type { RenderedRelease, RenderIndexEntry, RenderReport } from "./render";
export { RELEASE_TYPE, releasesFromEvents, renderStack, toYaml, writeRender } from "./render";
export type {
  ExitCode,
  FailedResource,
  JsonValue,
  OperationReport,
  OperationStatus,
  StackOperation,
} from "./report";
export {
  ConfigSetError,
  EventCollector,
  EXIT_CHANGES,
  EXIT_FAILED,
  EXIT_LOCKED,
  EXIT_SUCCESS,
  EXIT_USAGE,
  exitCodeFor,
  hasChanges,
  maskOutputMap,
  maskSecrets,
  SECRET_MASK,
  STACK_OPERATIONS,
  UnexpectedChangesError,
} from "./report";
export type { KubeAccess } from "./kube";
export { kubeAccess, kubeconfigText, kubeGet } from "./kube";
export type { CustomerReadiness, WorkloadReadiness } from "./readiness";
export { customerReadiness, workloadReadiness } from "./readiness";
export type {
  DeployedCustomer,
  RolloutOptions,
  RolloutPlan,
  RolloutReport,
  RolloutStart,
  RolloutSteps,
  WaveReport,
  WaveStatus,
  WaveUpdate,
} from "./rollout";
export { planProblems, rollout, runWaves } from "./rollout";
export type { SecretsInitReport } from "./secrets";
export { generateSecret, initSecrets } from "./secrets";
export type { StackOptions } from "./workspace";
export { openStack, runPulumi, serialized, stackConfigFile, toolsBinDir } from "./workspace";
