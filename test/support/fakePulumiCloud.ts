/**
 * A local stand-in for the Pulumi Cloud REST API (the parts the Deployments runner uses), following the
 * documented contract: `Authorization: token <PAT>` (401 otherwise), create stack (409 when it exists),
 * patch deployment settings (404 for unknown stacks), create deployment (returns `{id, consoleUrl, version}`;
 * 404 for unknown stacks; optionally 409 while another deployment is active), get and list deployments.
 * Each deployment walks through a scripted list of statuses, one per GET. Binds 127.0.0.1 on a free port.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One recorded request. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

interface FakeDeployment {
  id: string;
  version: number;
  stack: string;
  operation: string;
  statuses: string[];
  status: string;
}

/** The fake API server. */
export class FakePulumiCloud {
  readonly requests: RecordedRequest[] = [];
  readonly stacks = new Set<string>();
  readonly settings = new Map<string, unknown>();
  readonly deployments: FakeDeployment[] = [];
  /** Statuses the NEXT created deployment walks through (one per GET); default not-started, running, succeeded. */
  nextStatuses: string[] = ["not-started", "running", "succeeded"];
  /** Answer create-deployment with 409 while another deployment of the stack is active. */
  conflictWhileActive = false;
  /** Failures to inject: path substring -> list of statuses answered before the real handler. */
  readonly inject: Array<{ method: string; pathIncludes: string; status: number; times: number; retryAfter?: string }> =
    [];
  private server: Server | undefined;
  private version = 0;

  constructor(readonly token: string) {}

  /** Starts listening; resolves with the base URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const body = text === "" ? undefined : (JSON.parse(text) as unknown);
        const path = req.url ?? "/";
        const method = req.method ?? "GET";
        this.requests.push({ method, path, authorization: req.headers.authorization, body });
        const [status, payload, extraHeaders] = this.route(method, path, req.headers.authorization, body);
        const out = JSON.stringify(payload);
        res.writeHead(status, { "content-type": "application/json", ...extraHeaders });
        res.end(out);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }

  /** Adds a deployment that is already active on `stack` (e.g. started from the console). */
  addActiveDeployment(stack: string, statuses: string[]): string {
    return this.createDeployment(stack, "update", statuses).id;
  }

  private createDeployment(stack: string, operation: string, statuses: string[]): FakeDeployment {
    const deployment: FakeDeployment = {
      id: `dep-${++this.version}`,
      version: this.version,
      stack,
      operation,
      statuses: [...statuses],
      status: statuses[0] ?? "not-started",
    };
    this.deployments.push(deployment);
    return deployment;
  }

  private route(
    method: string,
    path: string,
    auth: string | undefined,
    body: unknown,
  ): [number, unknown] | [number, unknown, Record<string, string>] {
    if (auth !== `token ${this.token}`)
      return [401, { code: 401, message: "Unauthorized: No credentials provided or are invalid." }];
    const injected = this.inject.find((i) => i.method === method && path.includes(i.pathIncludes) && i.times > 0);
    if (injected) {
      injected.times--;
      return [
        injected.status,
        { code: injected.status, message: `injected ${injected.status}` },
        injected.retryAfter === undefined ? {} : { "retry-after": injected.retryAfter },
      ];
    }
    const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
    // parts: api stacks org project [stack [deployments [settings | id]]]
    if (parts[0] !== "api" || parts[1] !== "stacks") return [404, { code: 404, message: "Not Found" }];
    const [, , org, project, stack, sub, leaf] = parts;
    const key = `${org}/${project}/${stack}`;
    if (stack === undefined && method === "POST") {
      const name = (body as { stackName?: string }).stackName;
      const k = `${org}/${project}/${name}`;
      if (this.stacks.has(k)) return [409, { code: 409, message: `stack '${name}' already exists` }];
      this.stacks.add(k);
      return [200, {}];
    }
    if (!this.stacks.has(key)) return [404, { code: 404, message: `Stack '${stack}' not found` }];
    if (sub !== "deployments") return [404, { code: 404, message: "Not Found" }];
    if (leaf === "settings" && method === "POST") {
      this.settings.set(key, body);
      return [200, body];
    }
    if (leaf === undefined && method === "POST") {
      const active = this.deployments.find(
        (d) => d.stack === key && ["not-started", "accepted", "running"].includes(d.status),
      );
      if (this.conflictWhileActive && active) {
        return [409, { code: 409, message: "A deployment is already running for this stack" }];
      }
      const operation = (body as { operation: string }).operation;
      const d = this.createDeployment(key, operation, this.nextStatuses);
      return [
        202,
        { id: d.id, consoleUrl: `https://app.pulumi.com/${key}/deployments/${d.version}`, version: d.version },
      ];
    }
    if (leaf === undefined && method === "GET") {
      const list = this.deployments
        .filter((d) => d.stack === key)
        .reverse()
        .map((d) => ({ id: d.id, version: d.version, status: d.status, pulumiOperation: d.operation }));
      return [200, { deployments: list, itemsPerPage: 10, total: list.length }];
    }
    if (method === "GET") {
      const d = this.deployments.find((x) => x.id === leaf && x.stack === key);
      if (!d) return [404, { code: 404, message: "Deployment not found" }];
      // Each GET advances the deployment by one scripted status.
      d.status = d.statuses.shift() ?? d.status;
      // Any other active deployment of the stack advances too, so queued ones eventually run.
      return [200, { id: d.id, version: d.version, status: d.status, pulumiOperation: d.operation, jobs: [] }];
    }
    return [405, { code: 405, message: "Method Not Allowed" }];
  }
}
