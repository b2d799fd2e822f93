export {
  type GetConfigurationOutputArgs,
  type GetConfigurationResult,
  getConfigurationOutput,
} from "./getConfiguration";
