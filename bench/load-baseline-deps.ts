/**
 * What bench/load-baseline.ts loads: the castle's dependencies from outside its own code, imported the
 * way the program imports them (static imports, i.e. `require` under the CommonJS output), so the
 * baseline pays the same loading path as the program.
 */
import "@infisical/sdk";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as k8s from "@pulumi/kubernetes";
import "@pulumi/pulumi";
import "ipaddr.js";
import "yaml";
import "zod";
import "../lib/talos";
import { startMocks } from "../offline/mock-runtime";
import { offlineMocks } from "../offline/offline-provider";

/** Starts the mock runtime, as the program probe does, and registers nothing. */
export function startIdleMocks(): void {
  startMocks(offlineMocks({ stack: "blue" }));
}

/**
 * @pulumi/kubernetes and the Proxmox SDK load each module on first access: touches the classes the
 * castle uses. Returns how many.
 */
export function touchLazyModules(): number {
  return [
    k8s.Provider,
    k8s.core.v1.Namespace,
    k8s.core.v1.Secret,
    k8s.helm.v3.Release,
    k8s.apiextensions.CustomResource,
    proxmox.Provider,
    proxmox.VmLegacy,
    proxmox.download.File,
  ].length;
}
