/**
 * `avm serve`: the webhook receiver on a local `node:http` server, for operators who point a Pulumi Cloud
 * webhook at their machine (through a tunnel) or test deliveries. Binds 127.0.0.1 by default; stops gracefully
 * (stops accepting, lets in-flight deliveries finish, then closes idle keep-alive sockets).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookReceiver, WebhookResponse } from "../src/core/webhooks/receiver";

/** Options of {@link startWebhookServer}. */
export interface WebhookServerOptions {
  readonly receiver: WebhookReceiver;
  /** Interface to bind; default `127.0.0.1`. */
  readonly host?: string;
  /** Port; default 0 (a free port, see {@link WebhookServer.url}). */
  readonly port?: number;
  /** URL path deliveries are accepted on; default `/webhooks/pulumi`. */
  readonly path?: string;
}

/** A running webhook server. */
export interface WebhookServer {
  /** Base URL of the delivery endpoint, e.g. `http://127.0.0.1:8787/webhooks/pulumi`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, waits for in-flight deliveries, then resolves. Idempotent. */
  stop(): Promise<void>;
}

class BodyTooLarge extends Error {}

/** Reads the body, giving up (without buffering the rest) once it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, response: WebhookResponse): void {
  const body = JSON.stringify(response.body);
  res.writeHead(response.statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** The request's headers as the receiver takes them: Node already lower-cases the names; lists are joined. */
function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return headers;
}

/** Starts the server; resolves once it listens. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { receiver } = options;
  const host = options.host ?? "127.0.0.1";
  const endpoint = options.path ?? "/webhooks/pulumi";
  const server: Server = createServer((req, res) => {
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname !== endpoint) {
      send(res, { statusCode: 404, body: { ok: false, message: `not found; deliveries go to ${endpoint}` } });
      return;
    }
    readBody(req, receiver.bodyLimit)
      .then((body) => receiver.handle({ method: req.method ?? "GET", headers: headersOf(req), body }))
      .then(
        (response) => send(res, response),
        (error: unknown) => {
          if (error instanceof BodyTooLarge) {
            res.setHeader("connection", "close");
            send(res, { statusCode: 413, body: { ok: false, message: `body exceeds ${receiver.bodyLimit} bytes` } });
          } else {
            send(res, { statusCode: 400, body: { ok: false, message: "could not read the request body" } });
          }
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}${endpoint}`,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      return stopping;
    },
  };
}
