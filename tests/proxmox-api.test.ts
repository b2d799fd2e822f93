/**
 * castle recreate's Proxmox read (config/proxmox-api.ts), against the HTTPS stand-in of the two PVE lists
 * the provider's getNodesLegacy and getVmsLegacy make.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { listProxmoxCluster } from "../config/proxmox-api";
import { ProxmoxStandIn } from "./support/proxmox-stand-in";

const TOKEN = { tokenId: "castle@pve!castle", tokenSecret: "SENTINEL-PVE-TOKEN-SECRET-5e1f" };

describe("the Proxmox cluster read", () => {
  const standIn = new ProxmoxStandIn({
    ...TOKEN,
    nodes: {
      pve1: { state: "online", vms: [{ vmid: 2011, name: "blue-cp-1", tags: ["control-plane", "castle", "blue"] }] },
      pve2: { state: "online", vms: [{ vmid: 4000, name: "nas" }] },
      pve3: { state: "offline" },
      pve4: { state: "unreachable", vms: [{ vmid: 2013, name: "blue-cp-3" }] },
    },
  });
  before(() => standIn.start());
  after(() => standIn.close());
  const access = () => ({ endpoint: standIn.endpoint, ...TOKEN, insecure: true });

  it("lists every online node's VMs with their tags, and names the nodes it could not list", async () => {
    const cluster = await listProxmoxCluster(access());
    assert.deepEqual(cluster.vms, [
      { nodeName: "pve1", vmId: 2011, name: "blue-cp-1", tags: ["blue", "castle", "control-plane"] },
      { nodeName: "pve2", vmId: 4000, name: "nas", tags: [] },
    ]);
    // pve3 says offline; pve4 says online but its list answers 595, as the provider skips it.
    assert.deepEqual(cluster.offline, ["pve3", "pve4"]);
    assert.ok(standIn.requests.every((r) => r.authorized));
    assert.deepEqual(standIn.requests.map((r) => r.path).sort(), [
      "/api2/json/nodes",
      "/api2/json/nodes/pve1/qemu",
      "/api2/json/nodes/pve2/qemu",
      "/api2/json/nodes/pve4/qemu",
    ]);
  });

  it("fails with PVE's status on a bad token, never showing the token", async () => {
    await assert.rejects(
      listProxmoxCluster({ ...access(), tokenSecret: "SENTINEL-WRONG-SECRET-77aa" }),
      (error: Error) => {
        assert.equal(error.message, "received an HTTP 401 response - Reason: invalid token value!");
        return true;
      },
    );
  });

  it("verifies the certificate unless the stack turns verification off", async () => {
    await assert.rejects(listProxmoxCluster({ ...access(), insecure: false }), /self-signed certificate/);
  });
});
