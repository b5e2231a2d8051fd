/**
 * Pulumi Cloud webhooks through the REST API, for organization and stack webhooks. Endpoints and fields as
 * documented (checked 2026-12):
 * - https://www.pulumi.com/docs/reference/cloud-rest-api/webhooks/ : `POST|GET /api/orgs/{org}/hooks`,
 *   `GET|PATCH|DELETE /api/orgs/{org}/hooks/{name}`, `POST .../hooks/{name}/ping`; the same under
 *   `/api/stacks/{org}/{project}/{stack}/hooks` for stack webhooks. PATCH accepts the create body.
 * - https://www.pulumi.com/docs/reference/cloud-rest-api/schema/webhook/ : a webhook is
 *   `{organizationName, projectName?, stackName?, name, displayName, payloadUrl, secret?, active, format?,
 *   filters?, groups?}`; the secret "will be omitted when returned from the service" (the service reports
 *   `hasSecret` instead, as the pulumi-pulumiservice provider reads it). `name` is assigned by the service.
 * - https://www.pulumi.com/docs/deployments/webhooks/#event-filtering : the filter names (`update_succeeded`,
 *   `deployment_failed`, ...) and groups (`stacks`, `deployments`); an empty filter list means every event.
 * The secret is sent only in create and update bodies and never appears in errors (the client redacts the token;
 * bodies are never echoed).
 */
import type { PulumiCloudClient } from "../../src/stacks/pulumiCloudClient";

/** Where a webhook lives: the organization, or one stack of it. */
export type WebhookScope =
  | { readonly kind: "organization"; readonly organization: string }
  | { readonly kind: "stack"; readonly organization: string; readonly project: string; readonly stack: string };

/** A webhook as Pulumi Cloud returns it (the fields the AVM reads; never the secret). */
export interface PulumiWebhook {
  readonly name: string;
  readonly displayName: string;
  readonly payloadUrl: string;
  readonly active: boolean;
  readonly format?: string;
  readonly filters?: readonly string[];
  readonly groups?: readonly string[];
  /** True when the webhook has a secret (the secret itself is never returned). */
  readonly hasSecret?: boolean;
}

/** The body of a create or update (`secret` only when it is to be set). */
export interface WebhookBody {
  readonly organizationName: string;
  readonly projectName?: string;
  readonly stackName?: string;
  readonly displayName: string;
  readonly payloadUrl: string;
  readonly active: boolean;
  readonly format: string;
  readonly filters: readonly string[];
  /** Always sent empty: a group would subscribe to more events than the filters name. */
  readonly groups: readonly string[];
  readonly secret?: string;
}

/** One delivery as the ping endpoint reports it. */
export interface WebhookDelivery {
  readonly responseCode?: number;
  readonly responseBody?: string;
  readonly kind?: string;
}

const segment = (value: string): string => encodeURIComponent(value);

/** The hooks collection path of a scope. */
export function hooksPath(scope: WebhookScope): string {
  return scope.kind === "organization"
    ? `/api/orgs/${segment(scope.organization)}/hooks`
    : `/api/stacks/${segment(scope.organization)}/${segment(scope.project)}/${segment(scope.stack)}/hooks`;
}

/** The scope fields of a create/update body. */
export function scopeFields(scope: WebhookScope): Pick<WebhookBody, "organizationName" | "projectName" | "stackName"> {
  return scope.kind === "organization"
    ? { organizationName: scope.organization }
    : { organizationName: scope.organization, projectName: scope.project, stackName: scope.stack };
}

/** The webhook endpoints of one scope. */
export class PulumiWebhooks {
  constructor(
    private readonly client: PulumiCloudClient,
    readonly scope: WebhookScope,
  ) {}

  /** Every webhook of the scope, following `continuationToken` pages when the service sends them. */
  async list(): Promise<PulumiWebhook[]> {
    const all: PulumiWebhook[] = [];
    let token: string | undefined;
    // Bounded: a service that kept sending tokens would otherwise loop forever.
    for (let page = 0; page < 100; page++) {
      const query = token === undefined ? "" : `?continuationToken=${encodeURIComponent(token)}`;
      const { body } = await this.client.request<unknown>("GET", `${hooksPath(this.scope)}${query}`);
      if (Array.isArray(body)) return [...all, ...(body as PulumiWebhook[])];
      const paged = body as { webhooks?: PulumiWebhook[]; continuationToken?: string };
      all.push(...(paged.webhooks ?? []));
      if (paged.continuationToken === undefined || paged.continuationToken === "") return all;
      token = paged.continuationToken;
    }
    return all;
  }

  /** Creates a webhook; Pulumi Cloud assigns its `name`. */
  async create(body: WebhookBody): Promise<PulumiWebhook> {
    return (await this.client.request<PulumiWebhook>("POST", hooksPath(this.scope), body)).body;
  }

  /** Updates webhook `name` in place. */
  async update(name: string, body: WebhookBody): Promise<PulumiWebhook> {
    const path = `${hooksPath(this.scope)}/${segment(name)}`;
    return (await this.client.request<PulumiWebhook>("PATCH", path, { ...body, name })).body;
  }

  /** Deletes webhook `name`. */
  async delete(name: string): Promise<void> {
    await this.client.request<unknown>("DELETE", `${hooksPath(this.scope)}/${segment(name)}`);
  }

  /** Asks Pulumi Cloud to deliver a `ping` to webhook `name` and returns the delivery it reports. */
  async ping(name: string): Promise<WebhookDelivery> {
    return (await this.client.request<WebhookDelivery>("POST", `${hooksPath(this.scope)}/${segment(name)}/ping`)).body;
  }
}
