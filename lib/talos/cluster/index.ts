export { type GetHealthOutputArgs, type GetHealthResult, getHealthOutput } from "./getHealth";
export { Kubeconfig, type KubeconfigArgs, type KubeconfigTimeouts } from "./kubeconfig";
