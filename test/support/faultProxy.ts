/**
 * A loopback HTTP proxy in front of moto that injects faults AFTER a request reached moto: the request is
 * forwarded and carried out, then its reply is lost (the connection is cut, or a bare HTTP 500 comes back
 * instead). This is the "accepted, reply lost" case that SDK middleware cannot model faithfully, because the
 * SDK's own retry strategy sits between the middleware and the wire.
 *
 * Usage: `const proxy = await startFaultProxy(moto.endpoint, (call) => ...)`, give SDK clients
 * `{ ...moto.clientConfig(), endpoint: proxy.endpoint }`, and read `proxy.calls` afterwards.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one forwarded call after moto answered it. */
export type FaultAction =
  /** Pass moto's reply through unchanged. */
  | "pass"
  /** Cut the client connection without an answer (the reply is lost on the wire; the SDK sees a socket error). */
  | "drop"
  /** Answer HTTP 500 with an empty body instead of moto's reply (a load balancer's "internal error"). */
  | "500"
  /** Pass moto's reply on with its body rewritten (e.g. a listing that lags behind). */
  | { readonly replace: (body: string) => string };

/** One call as the proxy saw it. */
export interface ProxiedCall {
  /** `Service.Operation` from `X-Amz-Target` (JSON protocols), else `METHOD path`. */
  readonly operation: string;
  /** 1-based count of calls of this operation so far, this one included. */
  readonly nth: number;
  /** Request body as text (JSON protocols: the input). */
  readonly body: string;
  /** What the proxy did. */
  action?: FaultAction;
}

/** A running proxy. */
export interface FaultProxy {
  /** Base URL to use as the SDK endpoint. */
  readonly endpoint: string;
  /** Every call forwarded so far, in arrival order. */
  readonly calls: ProxiedCall[];
  /** Calls of one operation (`X-Amz-Target` suffix such as `CreateAccount`). */
  callsOf(operation: string): ProxiedCall[];
  /** Stops listening and cuts open connections. */
  stop(): Promise<void>;
}

/**
 * Starts the proxy on a free loopback port.
 * @param target moto's endpoint (`http://127.0.0.1:N`)
 * @param decide called for every call once moto answered it; default: pass everything through
 */
export async function startFaultProxy(
  target: string,
  decide: (call: ProxiedCall) => FaultAction = () => "pass",
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const calls: ProxiedCall[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const amzTarget = header(req.headers, "x-amz-target");
      const operation = amzTarget ?? `${req.method} ${req.url}`;
      const nth = (counts.get(operation) ?? 0) + 1;
      counts.set(operation, nth);
      const call: ProxiedCall = { operation, nth, body: body.toString("utf8") };
      calls.push(call);
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (upstreamRes) => {
          const reply: Buffer[] = [];
          upstreamRes.on("data", (chunk: Buffer) => reply.push(chunk));
          upstreamRes.on("end", () => {
            // moto has carried the call out by now: whatever happens next happens to the reply only.
            const action = decide(call);
            call.action = action;
            if (action === "drop") {
              req.socket.destroy();
              return;
            }
            if (action === "500") {
              res.writeHead(500, { "content-type": "text/plain", "content-length": "0" });
              res.end();
              return;
            }
            if (typeof action === "object") {
              const rewritten = Buffer.from(action.replace(Buffer.concat(reply).toString("utf8")), "utf8");
              res.writeHead(upstreamRes.statusCode ?? 502, {
                ...upstreamRes.headers,
                "content-length": String(rewritten.length),
              });
              res.end(rewritten);
              return;
            }
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            res.end(Buffer.concat(reply));
          });
        },
      );
      forward.on("error", (error) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`fault proxy: upstream failed: ${error.message}`);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    callsOf: (operation) => calls.filter((call) => call.operation.endsWith(`.${operation}`)),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
