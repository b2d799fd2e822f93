import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DNS_LABEL,
  DNS_SUBDOMAIN,
  type Fact,
  labelled,
  manifestLabel,
  unservedApiVersion,
  walk,
} from "./support/schema-check";

function problemsOf(value: unknown, fact: Fact): string[] {
  const problems: string[] = [];
  walk(value, fact, "", problems);
  return labelled("Doc", problems);
}

/** One row per way each kind of fact fails, and the value it accepts. */
const rows: { name: string; fact: Fact; value: unknown; problems: string[] }[] = [
  {
    name: "object: unknown field",
    fact: { type: "object", properties: { a: { type: "string" } } },
    value: { a: "x", b: 1 },
    problems: ["Doc: b: unknown field (known: a)"],
  },
  {
    name: "object: required field missing",
    fact: { type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, required: ["a", "b"] },
    value: { a: "x" },
    problems: ["Doc: b: required field missing"],
  },
  {
    name: "object: wrong type",
    fact: { type: "object", properties: { o: { type: "object", properties: {} } } },
    value: { o: [] },
    problems: ["Doc: o: expected object, got array"],
  },
  {
    name: "object: fewer fields than minProperties",
    fact: {
      type: "object",
      properties: { p: { type: "object", properties: { a: { type: "string" } }, minProperties: 1 } },
    },
    value: { p: {} },
    problems: ["Doc: p: needs at least 1 field(s)"],
  },
  {
    name: "object: more fields than maxProperties",
    fact: {
      type: "object",
      properties: {
        p: { type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, maxProperties: 1 },
      },
    },
    value: { p: { a: "x", b: "y" } },
    problems: ["Doc: p: allows at most 1 field(s), has 2"],
  },
  {
    name: "object: nested path",
    fact: {
      type: "object",
      properties: { spec: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } },
    },
    value: { spec: { m: 1 } },
    problems: ["Doc: spec.m: unknown field (known: n)", "Doc: spec.n: required field missing"],
  },
  {
    name: "string: wrong type",
    fact: { type: "object", properties: { s: { type: "string" } } },
    value: { s: 1.5 },
    problems: ["Doc: s: expected string, got number"],
  },
  {
    name: "string: not in enum",
    fact: { type: "object", properties: { s: { type: "string", enum: ["a", "b"] } } },
    value: { s: "c" },
    problems: ['Doc: s: "c" is not one of a, b'],
  },
  {
    name: "string enum: wrong type",
    fact: { type: "object", properties: { s: { type: "string", enum: ["stable", "off"] } } },
    value: { s: false },
    problems: ["Doc: s: expected one of stable, off, got boolean"],
  },
  {
    name: "string: pattern",
    fact: { type: "object", properties: { s: { type: "string", pattern: DNS_LABEL } } },
    value: { s: "Not_A_Label" },
    problems: ['Doc: s: "Not_A_Label" does not match /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/'],
  },
  {
    name: "string: minLength",
    fact: { type: "object", properties: { s: { type: "string", minLength: 1 } } },
    value: { s: "" },
    problems: ["Doc: s: shorter than 1 characters"],
  },
  {
    name: "string: maxLength",
    fact: { type: "object", properties: { s: { type: "string", maxLength: 3 } } },
    value: { s: "abcd" },
    problems: ["Doc: s: longer than 3 characters"],
  },
  {
    name: "integer: a fraction",
    fact: { type: "object", properties: { i: { type: "integer" } } },
    value: { i: 1.5 },
    problems: ["Doc: i: expected integer, got number"],
  },
  {
    name: "boolean: a string",
    fact: { type: "object", properties: { b: { type: "boolean" } } },
    value: { b: "true" },
    problems: ["Doc: b: expected boolean, got string"],
  },
  {
    name: "int-or-string: neither",
    fact: { type: "object", properties: { v: { type: "int-or-string" }, w: { type: "int-or-string" } } },
    value: { v: true, w: 1.5 },
    problems: ["Doc: v: expected integer or string, got boolean", "Doc: w: expected integer or string, got number"],
  },
  {
    name: "int-or-string: both accepted",
    fact: { type: "object", properties: { v: { type: "int-or-string" }, w: { type: "int-or-string" } } },
    value: { v: 60, w: "1m" },
    problems: [],
  },
  {
    name: "array: wrong type",
    fact: { type: "object", properties: { a: { type: "array", items: { type: "string" } } } },
    value: { a: "x" },
    problems: ["Doc: a: expected array, got string"],
  },
  {
    name: "array: minItems",
    fact: { type: "object", properties: { a: { type: "array", items: { type: "string" }, minItems: 1 } } },
    value: { a: [] },
    problems: ["Doc: a: fewer than 1 items"],
  },
  {
    name: "array: each item checked",
    fact: { type: "object", properties: { a: { type: "array", items: { type: "string" } } } },
    value: { a: ["x", 2, null] },
    problems: ["Doc: a[1]: expected string, got integer", "Doc: a[2]: expected string, got null"],
  },
  {
    name: "map: wrong type and each value checked",
    fact: {
      type: "object",
      properties: { m: { type: "map", values: { type: "string" } }, n: { type: "map", values: { type: "string" } } },
    },
    value: { m: { a: "x", b: 2 }, n: "x" },
    problems: ["Doc: m.b: expected string, got integer", "Doc: n: expected object, got string"],
  },
  {
    name: "unchecked: wrong type, content not checked",
    fact: {
      type: "object",
      properties: { o: { type: "unchecked", of: "object" }, a: { type: "unchecked", of: "array" } },
    },
    value: { o: [], a: { anything: 1 } },
    problems: ["Doc: o: expected object, got array", "Doc: a: expected array, got object"],
  },
  {
    name: "any: every value accepted, its siblings still checked",
    fact: {
      type: "object",
      properties: {
        a: { type: "any" },
        b: { type: "any" },
        c: { type: "any" },
        d: { type: "any" },
        e: { type: "any" },
      },
    },
    value: { a: null, b: [1], c: { x: { y: 1 } }, d: "s", e: false, f: 1 },
    problems: ["Doc: f: unknown field (known: a, b, c, d, e)"],
  },
];

describe("walk: each kind of fact", () => {
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(problemsOf(row.value, row.fact), row.problems));
  }
});

describe("shared Kubernetes checks", () => {
  const api = { group: "example.io", served: ["v1", "v2"] };
  const cases: { apiVersion: unknown; problem: string | undefined }[] = [
    { apiVersion: "example.io/v1", problem: undefined },
    { apiVersion: "example.io/v2", problem: undefined },
    {
      apiVersion: "example.io/v1beta1",
      problem: 'apiVersion: "example.io/v1beta1" is not served; the CRD serves example.io/v1, v2',
    },
    { apiVersion: "other.io/v1", problem: 'apiVersion: "other.io/v1" is not served; the CRD serves example.io/v1, v2' },
    { apiVersion: undefined, problem: 'apiVersion: "undefined" is not served; the CRD serves example.io/v1, v2' },
  ];
  for (const c of cases) {
    it(`apiVersion ${String(c.apiVersion)}`, () =>
      assert.equal(unservedApiVersion(c.apiVersion, api, "the CRD"), c.problem));
  }

  it("labels a manifest by kind and name", () => {
    assert.equal(manifestLabel({ kind: "ExternalSecret", metadata: { name: "db" } }), "ExternalSecret db");
    assert.equal(manifestLabel({ kind: "ExternalSecret", metadata: {} }), "ExternalSecret (no name)");
    assert.equal(manifestLabel({}), "(no kind) (no metadata)");
  });

  it("name patterns: subdomains may have dots, labels may not", () => {
    assert.ok(DNS_SUBDOMAIN.test("a.b-c.d"));
    assert.ok(!DNS_LABEL.test("a.b"));
    assert.ok(DNS_LABEL.test("flux-system"));
    assert.ok(!DNS_SUBDOMAIN.test("-a"));
    assert.ok(!DNS_LABEL.test("A"));
  });
});
