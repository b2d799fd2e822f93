/**
 * A stand-in for the Proxmox VE API over HTTPS on 127.0.0.1, answering the two lists of the castle's
 * guard, which `castle recreate`'s pre-flight and `castle verify` make (config/proxmox-api.ts),
 * `GET /api2/json/nodes` and `GET /api2/json/nodes/<node>/qemu`, with an API token.
 *
 * - another token: 401 "authentication failure" (assumed: PVE's text not read here).
 * - the node list: `{"data": [{node, status}]}`, "online" or "offline" (bpg v0.111.1
 *   proxmox/nodes/nodes_types.go `ListResponseData`: `node`, `status`; PVE adds fields nobody reads here);
 *   the nodes of `nodes` and of every VM, online unless `nodes` says otherwise.
 * - a node's VM list: `{"data": [{vmid, name, status, template, tags}]}`, tags one `;`-joined string,
 *   absent when none (proxmox/nodes/vms/vms_types.go `ListResponseData`); a node not online answers
 *   HTTP 595, as PVE's proxy does for a node it cannot reach (the code vms.go skips; PVE's reason text
 *   "No route to host" assumed).
 *
 * The certificate is self-signed, made at start with `openssl` (the stack under test sets
 * `insecureSkipTlsVerify`, as a home lab with PVE's own certificate does).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface StandInVm {
  node: string;
  vmId: number;
  name: string;
  tags: string[];
}

export class ProxmoxStandIn {
  vms: StandInVm[] = [];
  /** Node states for the lists; a node not named here but holding a VM is online. */
  nodes: Record<string, "online" | "offline" | "unreachable"> = {};
  /** `user@realm!name=secret`. */
  token = "";
  requests: string[] = [];
  private server?: Server;

  async start(): Promise<void> {
    const dir = mkdtempSync(path.join(tmpdir(), "castle-pve-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      this.server = createServer(
        { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) },
        (req, res) => {
          this.requests.push(`${req.method} ${req.url}`);
          const send = (status: number, statusText: string, body: unknown) => {
            res.writeHead(status, statusText, { "content-type": "application/json;charset=UTF-8" });
            res.end(JSON.stringify(body));
          };
          if (req.headers.authorization !== `PVEAPIToken=${this.token}`) {
            return send(401, "authentication failure", { data: null });
          }
          const list = this.list(req.url ?? "");
          if (list) return send(...list);
          send(501, "Method not implemented", { data: null });
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  }

  /** The node list and a node's VM list: status, reason and body; undefined for another path. */
  private list(url: string): [number, string, unknown] | undefined {
    const states = { ...Object.fromEntries(this.vms.map((vm) => [vm.node, "online" as const])), ...this.nodes };
    if (url === "/api2/json/nodes") {
      const data = Object.entries(states)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([node, state]) => ({ node, status: state === "offline" ? "offline" : "online" }));
      return [200, "OK", { data }];
    }
    const match = /^\/api2\/json\/nodes\/([^/]+)\/qemu$/.exec(url);
    if (!match) return undefined;
    const node = decodeURIComponent(match[1] as string);
    if (states[node] === undefined) return [500, `hostname lookup '${node}' failed`, { data: null }];
    if (states[node] !== "online") return [595, "No route to host", { data: null }];
    const data = this.vms
      .filter((vm) => vm.node === node)
      .map((vm) => ({
        vmid: vm.vmId,
        name: vm.name,
        status: "running",
        template: 0,
        ...(vm.tags.length > 0 ? { tags: vm.tags.join(";") } : {}),
      }));
    return [200, "OK", { data }];
  }

  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error("the Proxmox stand-in is not started");
    return `https://127.0.0.1:${address.port}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}
