/**
 * castle recreate's Proxmox read (config/proxmox-api.ts), against the HTTPS stand-in of the PVE API's two
 * lists the provider's getNodesLegacy and getVmsLegacy make.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { listProxmoxCluster } from "../config/proxmox-api";
import { ProxmoxStandIn } from "./support/proxmox-stand-in";

const TOKEN = { tokenId: "castle@pve!castle", tokenSecret: "SENTINEL-PVE-TOKEN-SECRET-5e1f" };

describe("the Proxmox cluster read", () => {
  const standIn = new ProxmoxStandIn();
  standIn.token = `${TOKEN.tokenId}=${TOKEN.tokenSecret}`;
  standIn.vms = [
    { node: "pve1", vmId: 2011, name: "blue-cp-1", tags: ["control-plane", "castle", "blue"] },
    { node: "pve2", vmId: 4000, name: "nas", tags: [] },
    { node: "pve4", vmId: 2013, name: "blue-cp-3", tags: [] },
  ];
  // pve3 says offline; pve4 says online but its list answers 595.
  standIn.nodes = { pve3: "offline", pve4: "unreachable" };
  before(() => standIn.start());
  after(() => standIn.close());
  const access = () => ({ endpoint: standIn.endpoint, ...TOKEN, insecure: true });

  it("lists every online node's VMs with their tags, and names the nodes it could not list", async () => {
    standIn.requests = [];
    const cluster = await listProxmoxCluster(access());
    assert.deepEqual(cluster.vms, [
      { nodeName: "pve1", vmId: 2011, name: "blue-cp-1", tags: ["blue", "castle", "control-plane"] },
      { nodeName: "pve2", vmId: 4000, name: "nas", tags: [] },
    ]);
    // As the provider skips a node whose list answers 595, so does this read.
    assert.deepEqual(cluster.offline, ["pve3", "pve4"]);
    assert.deepEqual(standIn.requests.sort(), [
      "GET /api2/json/nodes",
      "GET /api2/json/nodes/pve1/qemu",
      "GET /api2/json/nodes/pve2/qemu",
      "GET /api2/json/nodes/pve4/qemu",
    ]);
  });

  it("fails with PVE's status on a bad token, never showing the token", async () => {
    await assert.rejects(
      listProxmoxCluster({ ...access(), tokenSecret: "SENTINEL-WRONG-SECRET-77aa" }),
      (error: Error) => {
        assert.equal(error.message, "received an HTTP 401 response - Reason: authentication failure");
        return true;
      },
    );
  });

  it("verifies the certificate unless the stack turns verification off", async () => {
    await assert.rejects(listProxmoxCluster({ ...access(), insecure: false }), /self-signed certificate/);
  });
});
