export { Bootstrap, type BootstrapArgs, type BootstrapTimeouts } from "./bootstrap";
export { ConfigurationApply, type ConfigurationApplyArgs } from "./configurationApply";
export {
  type GetConfigurationOutputArgs,
  type GetConfigurationResult,
  getConfigurationOutput,
} from "./getConfiguration";
export { Secrets, type SecretsArgs } from "./secrets";
