/**
 * What the castle's Infisical fetch costs on the wire: HTTP requests and bytes (request + response,
 * headers included) of one `fetchCastleSecrets`, against the local Infisical stand-in, with the castle's
 * five secrets alone in the folder and with other secrets beside them. Bytes are counted by a TCP relay
 * between the SDK and the stand-in, so they are what crosses the socket (no TLS; the stand-in does
 * not compress).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { fetchCastleSecrets } from "../config/infisical";
import { InfisicalStandIn } from "../offline/infisical-stand-in";
import { dummySecretValues, TOPOLOGIES, topologyConfig } from "./topologies";

export interface InfisicalTraffic {
  /** Secrets in the folder (the castle's five included). */
  secretsInFolder: number;
  httpRequests: number;
  /** Requests per route, e.g. `{ "POST /api/v1/auth/universal-auth/login": 1 }`. */
  byRoute: Record<string, number>;
  connections: number;
  requestBytes: number;
  responseBytes: number;
}

const CLIENT_ID = "bench-program-identity";
const CLIENT_SECRET = "bench-program-client-secret";

/** A TCP relay to `port` that counts the bytes each way. */
async function countingRelay(port: number) {
  const counts = { connections: 0, requestBytes: 0, responseBytes: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    counts.connections++;
    const upstream = connect(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("data", (chunk: Buffer) => {
      counts.requestBytes += chunk.length;
    });
    upstream.on("data", (chunk: Buffer) => {
      counts.responseBytes += chunk.length;
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const relayPort = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${relayPort}`,
    counts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One castle fetch with `total` secrets in the folder. */
export async function measureInfisical(total: number): Promise<InfisicalTraffic> {
  const settings = topologyConfig(TOPOLOGIES[1] as (typeof TOPOLOGIES)[number]).infisical;
  const values = dummySecretValues();
  const secrets: Record<string, string> = {};
  for (const role of Object.keys(values) as (keyof typeof values)[]) {
    const value = values[role];
    if (value !== undefined) secrets[settings.secretNames[role]] = value;
  }
  // Other secrets of the folder: typical 32-character generated values.
  const others = Math.max(0, total - Object.keys(secrets).length);
  for (let i = 0; i < others; i++) {
    secrets[`APP_SECRET_${String(i + 1).padStart(3, "0")}`] = Buffer.alloc(24, i % 251).toString("base64");
  }
  const standIn = InfisicalStandIn.forFolder({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    projectId: settings.projectId,
    environment: settings.environment,
    secretPath: settings.secretPath,
    secrets,
  });
  const port = Number(new URL(await standIn.start()).port);
  const relay = await countingRelay(port);
  try {
    await fetchCastleSecrets(settings, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, siteUrl: relay.url });
  } finally {
    await relay.close();
    await standIn.close();
  }
  const byRoute: Record<string, number> = {};
  for (const request of standIn.requests) {
    const route = `${request.method} ${request.path}`;
    byRoute[route] = (byRoute[route] ?? 0) + 1;
  }
  return {
    secretsInFolder: Object.keys(secrets).length,
    httpRequests: standIn.requests.length,
    byRoute,
    connections: relay.counts.connections,
    requestBytes: relay.counts.requestBytes,
    responseBytes: relay.counts.responseBytes,
  };
}
