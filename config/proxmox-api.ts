/**
 * The guard's Proxmox read outside a Pulumi program, for `castle recreate`'s pre-flight: the same two
 * lists the provider's `getNodesLegacy` and `getVmsLegacy` make (bpg/terraform-provider-proxmox v0.111.1
 * proxmox/nodes/nodes.go `ListNodes`: `GET /nodes`; proxmox/nodes/vms/vms.go `ListVMs`:
 * `GET /nodes/<node>/qemu`), straight from the PVE API with the castle's API token, so a Proxmox that
 * cannot be read stops recreate before the destroy, not after it.
 */
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import type { ProxmoxCluster } from "./running-castle";

/** How long one request may take before the read gives up. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface ProxmoxApiAccess {
  /** `castle:proxmox.endpoint`, e.g. `https://pve.example.internal:8006/`. */
  endpoint: string;
  /** `user@realm!name`. */
  tokenId: string;
  tokenSecret: string;
  /** `castle:proxmox.insecureSkipTlsVerify`. */
  insecure: boolean;
}

/** A PVE answer other than 2xx, worded as bpg's client words it (proxmox/api/client.go `HTTPError`). */
export class ProxmoxHttpError extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(`received an HTTP ${status} response - Reason: ${reason}`);
    this.name = "ProxmoxHttpError";
  }
}

/** `GET <endpoint>api2/json<path>`: the `data` of PVE's JSON answer. */
function get(access: ProxmoxApiAccess, path: string): Promise<unknown> {
  const url = new URL(`api2/json${path}`, access.endpoint.endsWith("/") ? access.endpoint : `${access.endpoint}/`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        headers: { Authorization: `PVEAPIToken=${access.tokenId}=${access.tokenSecret}`, Accept: "application/json" },
        rejectUnauthorized: !access.insecure,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new ProxmoxHttpError(status, res.statusMessage ?? ""));
            return;
          }
          try {
            resolve((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data?: unknown }).data);
          } catch {
            reject(new Error(`GET ${url.pathname}: the answer is not JSON`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`GET ${url.pathname}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    req.on("error", reject);
    req.end();
  });
}

const records = (data: unknown): Record<string, unknown>[] =>
  Array.isArray(data) ? data.filter((d): d is Record<string, unknown> => d !== null && typeof d === "object") : [];

/**
 * Every VM of the Proxmox cluster and the nodes that are not online. A node whose list answers HTTP 595
 * (PVE cannot reach it) counts as offline, as the provider skips it; any other failure throws.
 */
export async function listProxmoxCluster(access: ProxmoxApiAccess): Promise<ProxmoxCluster> {
  const nodes = records(await get(access, "/nodes"));
  const offline = nodes.filter((n) => n.status !== "online").map((n) => String(n.node));
  const online = nodes.filter((n) => n.status === "online").map((n) => String(n.node));
  const lists = await Promise.all(
    online.map(async (node) => {
      try {
        return { node, vms: records(await get(access, `/nodes/${encodeURIComponent(node)}/qemu`)) };
      } catch (error) {
        if (error instanceof ProxmoxHttpError && error.status === 595) return { node, vms: undefined };
        throw new Error(`error retrieving VMs of node ${node}: ${(error as Error).message}`);
      }
    }),
  );
  return {
    offline: [...offline, ...lists.filter((l) => l.vms === undefined).map((l) => l.node)].sort(),
    vms: lists.flatMap(({ node, vms }) =>
      (vms ?? []).map((vm) => ({
        nodeName: node,
        vmId: Number(vm.vmid),
        name: typeof vm.name === "string" ? vm.name : "",
        // As vms.go reads them: `;`-separated, sorted.
        tags: typeof vm.tags === "string" && vm.tags !== "" ? vm.tags.split(";").sort() : [],
      })),
    ),
  };
}
