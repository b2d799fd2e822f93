/**
 * A stand-in for the two Proxmox VE API reads of the castle's guard, on 127.0.0.1 over HTTPS (a test-only
 * self-signed certificate in tests/support/tls/, for 127.0.0.1; it protects nothing, so stack files
 * pointed here set `insecureSkipTlsVerify`).
 *
 * What it answers, and from where:
 * - `GET /api2/json/nodes` -> `{data: [{node, status}]}`, status "online" or "offline": the fields bpg's
 *   client reads (bpg/terraform-provider-proxmox v0.111.1 proxmox/nodes/nodes_types.go `ListResponseData`,
 *   `node` and `status`); PVE adds more (cpu, mem, ...), which nobody reads here.
 * - `GET /api2/json/nodes/<node>/qemu` -> `{data: [{vmid, name, status, tags, template}]}`, tags one
 *   `;`-separated string, absent when none (proxmox/nodes/vms/vms_types.go `ListResponseData`).
 * - a node set to "unreachable" answers its list with HTTP 595, as PVE's proxy does for a node it cannot
 *   reach (the code vms.go skips; PVE's reason text "No route to host" assumed).
 * - `Authorization: PVEAPIToken=<id>=<secret>` (proxmox/api/token_auth.go); another token gets
 *   HTTP 401 with reason "invalid token value!" (assumed: PVE's text was not read).
 * Every request is recorded (method, path, whether the token matched).
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface StandInVm {
  vmid: number;
  name: string;
  tags?: string[];
}

export interface ProxmoxStandInOptions {
  tokenId: string;
  tokenSecret: string;
  /** Node name -> its state and its VMs. */
  nodes: Record<string, { state: "online" | "offline" | "unreachable"; vms?: StandInVm[] }>;
}

const TLS_DIR = path.join(__dirname, "tls");

export class ProxmoxStandIn {
  readonly requests: { path: string; authorized: boolean }[] = [];
  private readonly server: Server;
  private url = "";

  constructor(public options: ProxmoxStandInOptions) {
    this.server = createServer(
      { key: readFileSync(path.join(TLS_DIR, "stand-in.key")), cert: readFileSync(path.join(TLS_DIR, "stand-in.crt")) },
      (req, res) => this.handle(req, res),
    );
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  /** The endpoint to give as `castle:proxmox.endpoint`. */
  get endpoint(): string {
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "https://stand-in");
    const authorized = req.headers.authorization === `PVEAPIToken=${this.options.tokenId}=${this.options.tokenSecret}`;
    this.requests.push({ path: url.pathname, authorized });
    const [status, reason, body] = this.answer(url.pathname, authorized);
    res.writeHead(status, reason, { "content-type": "application/json;charset=UTF-8" });
    res.end(JSON.stringify(body));
  }

  /** Status, reason phrase and JSON body for a GET of `pathname`. */
  private answer(pathname: string, authorized: boolean): [number, string, unknown] {
    const { nodes } = this.options;
    if (!authorized) return [401, "invalid token value!", { data: null }];
    if (pathname === "/api2/json/nodes") {
      const data = Object.entries(nodes).map(([node, n]) => ({
        node,
        status: n.state === "offline" ? "offline" : "online",
      }));
      return [200, "OK", { data }];
    }
    const match = /^\/api2\/json\/nodes\/([^/]+)\/qemu$/.exec(pathname);
    const node = match ? nodes[decodeURIComponent(match[1] as string)] : undefined;
    if (!match || node === undefined) return [501, `Method 'GET ${pathname}' not implemented`, { data: null }];
    if (node.state !== "online") return [595, "No route to host", { data: null }];
    const data = (node.vms ?? []).map((vm) => ({
      vmid: vm.vmid,
      name: vm.name,
      status: "running",
      template: 0,
      ...(vm.tags && vm.tags.length > 0 ? { tags: vm.tags.join(";") } : {}),
    }));
    return [200, "OK", { data }];
  }
}
