/**
 * Hosts from CI: `PROXMOX_VE_ENDPOINT` replaces the stack file's Proxmox endpoint for the provider (the
 * guard's reads included); `INFISICAL_SITE_URL` replaces the Infisical site for the program's fetch.
 * A pull request edits the stack file, not the CI environment.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { loadStackFile } from "../config/load";
import { withHostOverrides } from "../config/overrides";
import { GET_VM, PROJECT_DIR, runProgram } from "./support/program-run";

const CI_ENDPOINT = "https://pve-ci.lab.internal:8006/";

afterEach(() => {
  delete process.env.PROXMOX_VE_ENDPOINT;
});

describe("hosts from the environment", () => {
  it("PROXMOX_VE_ENDPOINT replaces castle:proxmox.endpoint for the provider the guard reads through", async () => {
    process.env.PROXMOX_VE_ENDPOINT = CI_ENDPOINT;
    const run = await runProgram("blue", {
      edit: (raw) => {
        (raw.proxmox as Record<string, unknown>).endpoint = "https://attacker.example:8006/";
      },
    });
    assert.equal(run.error, undefined, run.error?.message);
    const providers = run.harness.ofType("pulumi:providers:proxmoxve");
    assert.equal(providers.length, 1);
    assert.equal(providers[0].inputs.endpoint, CI_ENDPOINT);
    const provider = `${providers[0].urn}::${providers[0].name}-id`;
    for (const read of run.harness.invokes.filter((i) => i.token === GET_VM)) assert.ok(read.seq > providers[0].seq);
    for (const vm of run.harness.ofType("proxmoxve:index/vmLegacy:VmLegacy")) assert.equal(vm.provider, provider);
  });

  it("INFISICAL_SITE_URL is where the program fetches, whatever the stack file says", async () => {
    const run = await runProgram("blue", {
      edit: (raw) => {
        (raw.infisical as Record<string, unknown>).siteUrl = "https://attacker.example";
      },
    });
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.standIn.requests.length, 2, "the fetch went to the stand-in named by INFISICAL_SITE_URL");
  });

  it("an invalid PROXMOX_VE_ENDPOINT stops the run before anything, naming the variable", async () => {
    process.env.PROXMOX_VE_ENDPOINT = "http://pve.lab.internal:8006/api2/json";
    const run = await runProgram("blue");
    assert.equal(run.error?.name, "CastleConfigError");
    assert.match(
      run.error?.message ?? "",
      /stack "blue" \(environment\) has 1 problem:\n {2}- PROXMOX_VE_ENDPOINT: "http:\/\/pve\.lab\.internal:8006\/api2\/json": must be an https URL/,
    );
    assert.deepEqual(run.harness.resources, []);
  });

  it("unset or empty, the stack file's endpoint stays", () => {
    const config = loadStackFile(PROJECT_DIR, "green");
    assert.equal(withHostOverrides("green", config, {}), config);
    assert.equal(withHostOverrides("green", config, { PROXMOX_VE_ENDPOINT: " " }), config);
  });
});
