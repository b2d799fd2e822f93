/**
 * doctor's first look at the Infisical site: an HTTP answer within the deadline, or why not. A listener
 * that accepts the connection and never answers fails within the deadline too, not after the SDK's 30 s.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { after, describe, it } from "node:test";
import { reachable } from "../cli/reach";

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

describe("reachable", () => {
  it("a site that answers, whatever the status, is reachable", async () => {
    const port = await listen(
      createHttpServer((req, res) => {
        res.writeHead(req.url === "/api/status" ? 404 : 500).end();
      }),
    );
    assert.equal(await reachable(`http://127.0.0.1:${port}`, 2000), undefined);
  });

  it("a silent listener fails within the deadline, said as such", async () => {
    const sockets: import("node:net").Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket); // accepted, read, never answered
    });
    const port = await listen(server);
    const why = await reachable(`http://127.0.0.1:${port}`, 200);
    assert.equal(
      why,
      `127.0.0.1:${port} accepted the connection but sent no answer within 0.2 s (is it the Infisical site, and its port? a proxy in between?)`,
    );
    for (const socket of sockets) socket.destroy();
  });

  it("a closed port and an unknown host say so", async () => {
    const server = createServer();
    const port = await listen(server);
    server.close();
    await new Promise((resolve) => server.once("close", resolve));
    assert.equal(
      await reachable(`http://127.0.0.1:${port}`, 2000),
      `nothing listens on 127.0.0.1:${port} (connection refused)`,
    );
    assert.match(
      (await reachable("https://castle-does-not-exist.invalid", 2000)) ?? "",
      /does not resolve \(DNS: (ENOTFOUND|EAI_AGAIN)\)$/,
    );
  });
});
