import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { plaintextOccurrences, resolved, settle, startMocks } from "./support/pulumi-mocks";
import { validateTalosDocument } from "./support/talos-config-facts";

const harness = startMocks();

/** 32 bytes 0x00..0x1f; sha256 of those bytes starts 630dcd2966c43366. */
const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

type Module = typeof import("../components/secretbox-encryption");
let SecretboxEncryption: Module["SecretboxEncryption"];

describe("SecretboxEncryption", () => {
  let box: InstanceType<Module["SecretboxEncryption"]>;
  let plainBox: InstanceType<Module["SecretboxEncryption"]>;

  before(async () => {
    ({ SecretboxEncryption } = await import("../components/secretbox-encryption"));
    box = new SecretboxEncryption("castle", { key: pulumi.secret(KEY) });
    plainBox = new SecretboxEncryption("plain", { key: KEY });
    await settle();
  });

  it("registers one component, with no key in its state", () => {
    assert.deepEqual(
      harness.resources.map((r) => `${r.type}::${r.name}`),
      ["castle:index:SecretboxEncryption::castle", "castle:index:SecretboxEncryption::plain"],
    );
    for (const r of harness.resources) {
      assert.deepEqual(r.inputs, {});
      assert.deepEqual(plaintextOccurrences(r.inputs, KEY), []);
    }
  });

  it("configPatch is secret and sets cluster.secretboxEncryptionSecret, valid for Talos v1.13", async () => {
    for (const b of [box, plainBox]) {
      assert.equal(await pulumi.isSecret(b.configPatch), true);
      const doc = parse(await resolved(b.configPatch));
      assert.deepEqual(doc, { cluster: { secretboxEncryptionSecret: KEY } });
      assert.deepEqual(validateTalosDocument(doc), []);
    }
  });

  it("fingerprint is not secret and is sha256 of the decoded key, first 16 hex", async () => {
    assert.equal(await pulumi.isSecret(box.fingerprint), false);
    assert.equal(await resolved(box.fingerprint), "sha256:630dcd2966c43366");
    assert.equal(await resolved(plainBox.fingerprint), "sha256:630dcd2966c43366");
  });

  const badKeys: { name: string; key: string; problem: RegExp }[] = [
    {
      name: "31 bytes",
      key: Buffer.alloc(31, 7).toString("base64"),
      problem: /decodes to 31 bytes, expected exactly 32/,
    },
    { name: "33 bytes", key: Buffer.alloc(33, 7).toString("base64"), problem: /decodes to 33 bytes/ },
    { name: "URL-safe alphabet", key: "-_-_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", problem: /URL-safe/ },
    { name: "trailing newline", key: `${KEY}\n`, problem: /whitespace or a line break/ },
    {
      name: "hex, not base64",
      key: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      problem: /decodes to 48 bytes/,
    },
    { name: "empty", key: "", problem: /is empty/ },
  ];

  for (const c of badKeys) {
    it(`refuses a plain key (${c.name}) at once, without quoting it`, () => {
      assert.throws(
        () => new SecretboxEncryption(`bad-plain-${c.name}`, { key: c.key }),
        (err: Error) => {
          assert.match(err.message, c.problem);
          assert.match(err.message, /SecretboxEncryption "bad-plain-/);
          if (c.key.trim() !== "") assert.ok(!err.message.includes(c.key.trim()), "the error quotes the key");
          return true;
        },
      );
    });
  }

  it("refuses a bad secret key when its value arrives: the program fails, without quoting it", () => {
    // The failure surfaces when the engine serialises the component's outputs, which ends the program;
    // so it runs in its own process, as a deployment would.
    const bad = Buffer.alloc(16, 9).toString("base64");
    const program = [
      `const pulumi = require("@pulumi/pulumi");`,
      `require(${JSON.stringify(path.join(__dirname, "support/pulumi-mocks.ts"))}).startMocks();`,
      `const { SecretboxEncryption } = require(${JSON.stringify(path.join(__dirname, "../components/secretbox-encryption.ts"))});`,
      `new SecretboxEncryption("bad-secret", { key: pulumi.secret(process.env.CASTLE_TEST_KEY) });`,
    ].join("\n");
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", program], {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, CASTLE_TEST_KEY: bad },
      encoding: "utf8",
    });
    assert.notEqual(run.status, 0);
    assert.match(
      run.stderr,
      /SecretboxEncryption "bad-secret": the secretbox key decodes to 16 bytes, expected exactly 32/,
    );
    assert.ok(!run.stderr.includes(bad) && !run.stdout.includes(bad), "the output quotes the key");
  });
});
