/**
 * A local stand-in for the Pulumi Cloud REST API (the parts the Deployments runner uses), following the
 * documented contract: `Authorization: token <PAT>` (401 otherwise), create stack (409 when it exists),
 * patch deployment settings (404 for unknown stacks), create deployment (returns `{id, consoleUrl, version}`;
 * 404 for unknown stacks; optionally 409 while another deployment is active), get and list deployments.
 * Each deployment walks through a scripted list of statuses, one per GET. Binds 127.0.0.1 on a free port.
 *
 * Webhooks (https://www.pulumi.com/docs/reference/cloud-rest-api/webhooks/): list, create (the service assigns
 * `name`; 400 when `organizationName` differs from the path), get, PATCH (the body's fields replace the stored ones;
 * an absent `secret` keeps it), delete and ping for organization hooks (`/api/orgs/{org}/hooks`, 404 for an
 * organization not in {@link FakePulumiCloud.organizations}) and stack hooks (`/api/stacks/{org}/{p}/{s}/hooks`).
 * Returned webhooks never contain the secret, only `hasSecret`. Ping really POSTs a signed `ping` delivery to the
 * payload URL (as Pulumi Cloud does) and answers with the delivery's response code.
 *
 * Webhook events of deployments: an `update` deployment that reaches `succeeded` or `failed` POSTs a signed
 * `deployment` delivery, a `detect-drift` (or `remediate-drift`) deployment a `drift_detection` (`drift_remediation`)
 * delivery, payload as documented at
 * https://www.pulumi.com/docs/pulumi-cloud/webhooks/ ("Drift detection"), to every active webhook of the organization
 * or the stack whose filters name the event, before the GET that reports the final status is answered. The drift
 * found is scripted per stack in {@link FakePulumiCloud.driftOf}.
 */
import { createHmac, randomUUID } from "node:crypto";
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
  /** {@link FakePulumiCloud.runInBackground}: walking its statuses on its own. */
  running?: boolean;
}

/** A stored webhook (with its secret, which the API never returns). */
export interface FakeWebhook {
  name: string;
  displayName: string;
  payloadUrl: string;
  active: boolean;
  format: string;
  filters: string[];
  groups: string[];
  secret?: string;
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
  readonly inject: Array<{
    method: string;
    pathIncludes: string;
    status: number;
    times: number;
    retryAfter?: string;
    /** Runs when the failure is answered (e.g. a concurrent writer's effect). */
    then?: () => void;
  }> = [];
  /** Organizations that exist (webhook routes answer 404 for others). */
  readonly organizations = new Set<string>(["acme"]);
  /** Webhooks by scope: `org` or `org/project/stack`. */
  readonly webhooks = new Map<string, FakeWebhook[]>();
  /** Resource changes a detect-drift run of the stack (`org/project/stack`) finds; absent: no drift. */
  readonly driftOf = new Map<string, Record<string, number>>();
  /** Drift deliveries sent: webhook name, kind, the filter that matched, the receiver's status code. */
  readonly driftDeliveries: { hook: string; kind: string; event: string; status: number }[] = [];
  private readonly runsEnded: FakeDeployment[] = [];
  /**
   * Deployments run to their end on their own once first looked at (GET answers the status as it stands, then the
   * deployment walks its statuses 1 ms apart); their webhook events are delivered at the end.
   */
  runInBackground = false;
  private hookCounter = 0;
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
        void this.routeAsync(method, path, req.headers.authorization, body).then(([status, payload, extraHeaders]) => {
          const out = JSON.stringify(payload);
          res.writeHead(status, { "content-type": "application/json", ...extraHeaders });
          res.end(out);
        });
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

  /** Walks a deployment through its statuses on its own (1 ms apart), delivering its webhook events at the end. */
  private async runToEnd(d: FakeDeployment): Promise<void> {
    while (d.statuses.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const was = d.status;
      d.status = d.statuses.shift() ?? d.status;
      if (d.status !== was && (d.status === "succeeded" || d.status === "failed")) await this.deliverDrift(d);
    }
  }

  /** Adds a webhook as if created elsewhere (the console); returns its name. */
  addWebhook(scope: string, hook: Omit<FakeWebhook, "name"> & { name?: string }): string {
    const name = hook.name ?? this.nextHookName();
    const list = this.webhooks.get(scope) ?? [];
    list.push({ ...hook, name });
    this.webhooks.set(scope, list);
    return name;
  }

  private nextHookName(): string {
    return `hook${(++this.hookCounter).toString(16).padStart(6, "0")}`;
  }

  private async routeAsync(
    method: string,
    path: string,
    auth: string | undefined,
    body: unknown,
  ): Promise<[number, unknown] | [number, unknown, Record<string, string>]> {
    const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
    const hooksAt = parts.indexOf("hooks");
    if (auth === `token ${this.token}` && hooksAt > 0 && !this.injectedFor(method, path)) {
      return this.hooks(method, parts.slice(0, hooksAt), parts.slice(hooksAt + 1), body);
    }
    const answer = this.route(method, path, auth, body);
    for (const ended of this.runsEnded.splice(0)) await this.deliverDrift(ended);
    return answer;
  }

  private async deliverDrift(d: FakeDeployment): Promise<void> {
    const [org, projectName, stackName] = d.stack.split("/") as [string, string, string];
    if (d.operation === "update") {
      const payload = JSON.stringify({
        projectName,
        stackName,
        deploymentUrl: `https://app.pulumi.com/${d.stack}/deployments/${d.version}`,
        version: d.version,
        operation: "update",
        status: d.status,
      });
      return this.deliver(d.stack, "deployment", `deployment_${d.status}`, payload);
    }
    const remediation = d.operation === "remediate-drift";
    const kind = remediation ? "drift_remediation" : "drift_detection";
    const changes = this.driftOf.get(d.stack);
    const event = `${remediation ? "drift_remediation" : "drift_detection"}_${d.status}`;
    const payload = JSON.stringify({
      user: { name: "Deploy Bot", githubLogin: "bot", avatarUrl: "https://example.com/a.png" },
      organization: { name: org, githubLogin: org, avatarUrl: "https://example.com/o.png" },
      projectName,
      stackName,
      ...(remediation
        ? {}
        : { driftDetected: d.status === "succeeded" && changes !== undefined, driftRunId: `run-${d.id}` }),
      status: d.status,
      resourceChanges: changes ?? {},
      referenceUrl: `https://app.pulumi.com/${d.stack}/deployments/${d.version}`,
    });
    if (remediation && d.status === "succeeded") this.driftOf.delete(d.stack);
    return this.deliver(d.stack, kind, event, payload);
  }

  /** POSTs a signed delivery to every active webhook of the stack's organization or the stack that filters `event`. */
  private async deliver(stack: string, kind: string, event: string, payload: string): Promise<void> {
    const org = stack.split("/")[0] ?? "";
    for (const hook of [...(this.webhooks.get(org) ?? []), ...(this.webhooks.get(stack) ?? [])]) {
      if (!hook.active || !hook.filters.includes(event)) continue;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "pulumi-webhook-id": randomUUID(),
        "pulumi-webhook-kind": kind,
      };
      if (hook.secret)
        headers["pulumi-webhook-signature"] = createHmac("sha256", hook.secret).update(payload).digest("hex");
      let status = 0;
      try {
        const response = await fetch(hook.payloadUrl, { method: "POST", headers, body: payload });
        status = response.status;
        await response.text();
      } catch {
        status = 0;
      }
      this.driftDeliveries.push({ hook: hook.name, kind, event, status });
    }
  }

  private injectedFor(method: string, path: string): boolean {
    return this.inject.some((i) => i.method === method && path.includes(i.pathIncludes) && i.times > 0);
  }

  private async hooks(method: string, scopeParts: string[], rest: string[], body: unknown): Promise<[number, unknown]> {
    const notFound = (what: string): [number, unknown] => [404, { code: 404, message: `${what} not found` }];
    let scope: string;
    let org: string | undefined;
    if (scopeParts[1] === "orgs" && scopeParts.length === 3) {
      org = scopeParts[2];
      scope = org ?? "";
    } else if (scopeParts[1] === "stacks" && scopeParts.length === 5) {
      org = scopeParts[2];
      scope = scopeParts.slice(2).join("/");
      if (!this.stacks.has(scope)) return notFound(`Stack '${scopeParts[4]}'`);
    } else {
      return notFound("route");
    }
    if (org === undefined || !this.organizations.has(org)) return notFound(`Organization '${org}'`);
    const list = this.webhooks.get(scope) ?? [];
    this.webhooks.set(scope, list);
    const view = (h: FakeWebhook) => {
      const { secret, ...rest } = h;
      return { organizationName: org, ...rest, hasSecret: secret !== undefined && secret !== "" };
    };
    const [name, action] = rest;
    if (name === undefined) {
      if (method === "GET") return [200, list.map(view)];
      if (method !== "POST") return [405, { code: 405, message: "Method Not Allowed" }];
      const b = body as Partial<FakeWebhook> & { organizationName?: string };
      if (b.organizationName !== org) return [400, { code: 400, message: "organizationName does not match the path" }];
      if (!b.displayName || !b.payloadUrl)
        return [400, { code: 400, message: "displayName and payloadUrl are required" }];
      const hook: FakeWebhook = {
        name: this.nextHookName(),
        displayName: b.displayName,
        payloadUrl: b.payloadUrl,
        active: b.active ?? false,
        format: b.format ?? "raw",
        filters: b.filters ?? [],
        groups: b.groups ?? [],
        ...(b.secret ? { secret: b.secret } : {}),
      };
      list.push(hook);
      return [201, view(hook)];
    }
    const hook = list.find((h) => h.name === name);
    if (hook === undefined) return notFound(`Webhook '${name}'`);
    if (action === "ping" && method === "POST") {
      const payload = JSON.stringify({ timestamp: 1632735487, message: "Just a friendly ping from Pulumi" });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "pulumi-webhook-id": randomUUID(),
        "pulumi-webhook-kind": "ping",
      };
      if (hook.secret)
        headers["pulumi-webhook-signature"] = createHmac("sha256", hook.secret).update(payload).digest("hex");
      try {
        const response = await fetch(hook.payloadUrl, { method: "POST", headers, body: payload });
        return [200, { kind: "ping", payload, responseCode: response.status, responseBody: await response.text() }];
      } catch (error) {
        return [200, { kind: "ping", payload, responseCode: 0, responseBody: String(error) }];
      }
    }
    if (action !== undefined) return notFound("route");
    if (method === "GET") return [200, view(hook)];
    if (method === "DELETE") {
      list.splice(list.indexOf(hook), 1);
      return [204, {}];
    }
    if (method === "PATCH") {
      const b = body as Partial<FakeWebhook>;
      if (b.displayName !== undefined) hook.displayName = b.displayName;
      if (b.payloadUrl !== undefined) hook.payloadUrl = b.payloadUrl;
      if (b.active !== undefined) hook.active = b.active;
      if (b.format !== undefined) hook.format = b.format;
      if (b.filters !== undefined) hook.filters = [...b.filters];
      if (b.groups !== undefined) hook.groups = [...b.groups];
      if (b.secret !== undefined) hook.secret = b.secret;
      return [200, view(hook)];
    }
    return [405, { code: 405, message: "Method Not Allowed" }];
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
      injected.then?.();
      return [
        injected.status,
        { code: injected.status, message: `injected ${injected.status}` },
        injected.retryAfter === undefined ? {} : { "retry-after": injected.retryAfter },
      ];
    }
    const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
    if (method === "GET" && parts.join("/") === "api/user/stacks") {
      // List Stacks (https://www.pulumi.com/docs/reference/cloud-rest-api/stacks/): filtered by organization/project.
      const query = new URLSearchParams(path.split("?")[1] ?? "");
      const stacks = [...this.stacks]
        .map((k) => k.split("/"))
        .filter(([o, p]) => (query.get("organization") ?? o) === o && (query.get("project") ?? p) === p)
        .map(([orgName, projectName, stackName]) => ({ orgName, projectName, stackName }));
      return [200, { stacks }];
    }
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
    if (leaf === "settings" && method === "GET") {
      const stored = this.settings.get(key);
      return stored === undefined ? [404, { code: 404, message: "Deployment settings not found" }] : [200, stored];
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
      if (this.runInBackground) {
        // Answered as it stands; the first look starts it running on its own.
        if (!d.running) {
          d.running = true;
          void this.runToEnd(d);
        }
        return [200, { id: d.id, version: d.version, status: d.status, pulumiOperation: d.operation, jobs: [] }];
      }
      // Each GET advances the deployment by one scripted status.
      const was = d.status;
      d.status = d.statuses.shift() ?? d.status;
      const ended = d.status !== was && (d.status === "succeeded" || d.status === "failed");
      if (ended) this.runsEnded.push(d);
      // Any other active deployment of the stack advances too, so queued ones eventually run.
      return [200, { id: d.id, version: d.version, status: d.status, pulumiOperation: d.operation, jobs: [] }];
    }
    return [405, { code: 405, message: "Method Not Allowed" }];
  }
}
