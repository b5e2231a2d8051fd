/**
 * A small recording mock runtime for the offline plan (product code; the test suite has its own in
 * `test/support/`). It answers the invokes the account stack makes (`aws.getPartition`, `getCallerIdentity`,
 * `getRegion`), synthesises `arn`/`name` outputs from the provider's `allowedAccountIds`, and records every
 * registration with secret inputs marked. Mocks are process-global: only `planChild.ts` (its own process) uses it.
 */
import * as pulumi from "@pulumi/pulumi";

/** One registered resource. */
export interface MockedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs with secret values unwrapped (the caller masks them before output). */
  readonly inputs: Record<string, unknown>;
  /** Top-level inputs that are, or contain, secrets. */
  readonly secretInputs: string[];
  /** Logical name of the explicit provider, when set. */
  readonly provider?: string;
  readonly custom: boolean;
}

/** Options of {@link installPlanMocks}. */
export interface PlanMockOptions {
  readonly project: string;
  readonly stack: string;
  /** Fully qualified config (`meshstack-avm:accountId`, `aws:region`); objects as JSON strings. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
  /** Partition reported by `getPartition`; default `aws`. */
  readonly partition?: string;
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const PROVIDER_PREFIX = "pulumi:providers:";

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}
function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}
function unwrap(value: unknown): unknown {
  if (isSecret(value)) return unwrap(value.value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

/** Installs the mocks and the stack config; returns the list registrations are appended to. */
export async function installPlanMocks(options: PlanMockOptions): Promise<MockedResource[]> {
  const resources: MockedResource[] = [];
  const partition = options.partition ?? "aws";
  const region = options.config["aws:region"] ?? "us-east-1";
  const providerAccounts = new Map<string, string>();
  const providerName = (ref: string | undefined): string | undefined => {
    if (!ref) return undefined;
    const parts = ref.split("::");
    return parts[parts.length - 2];
  };
  const accountOf = (ref: string | undefined): string =>
    providerAccounts.get(providerName(ref) ?? "") ?? "000000000000";

  pulumi.runtime.setAllConfig({ ...options.config }, [...options.secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const raw = args.inputs as Record<string, unknown>;
        const inputs = unwrap(raw) as Record<string, unknown>;
        if (args.type.startsWith(PROVIDER_PREFIX)) {
          const allowed = inputs["allowedAccountIds"];
          const ids =
            typeof allowed === "string" ? (JSON.parse(allowed) as string[]) : (allowed as string[] | undefined);
          if (ids?.[0]) providerAccounts.set(args.name, ids[0]);
        }
        const provider = providerName(args.provider);
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          secretInputs: Object.keys(raw).filter((k) => containsSecret(raw[k])),
          ...(provider ? { provider } : {}),
          custom: args.custom ?? true,
        });
        const account = accountOf(args.provider);
        const physical = typeof inputs["name"] === "string" ? inputs["name"] : `${args.name}-physical`;
        const state: Record<string, unknown> = { name: physical };
        if (args.type === "aws:iam/role:Role") state["arn"] = `arn:${partition}:iam::${account}:role/${physical}`;
        if (args.type === "aws:iam/policy:Policy") state["arn"] = `arn:${partition}:iam::${account}:policy/${physical}`;
        if (args.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider") {
          // An IAM OIDC provider's ARN names its URL without the scheme.
          state["arn"] =
            `arn:${partition}:iam::${account}:oidc-provider/${String(inputs["url"]).replace(/^https:\/\//, "")}`;
        }
        return { id: `${args.name}-id`, state: { ...raw, ...state } };
      },
      call(args) {
        const account = accountOf(args.provider);
        switch (args.token) {
          case "aws:index/getPartition:getPartition":
            return { id: partition, partition, dnsSuffix: "amazonaws.com" };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
              id: account,
              accountId: account,
              arn: `arn:${partition}:sts::${account}:assumed-role/plan/plan`,
              userId: "plan",
            };
          case "aws:index/getRegion:getRegion":
            return { id: region, name: region, region };
          default:
            throw new Error(`offline plan: the program called ${args.token}, which the offline plan cannot answer`);
        }
      },
    },
    options.project,
    options.stack,
    true,
  );
  return resources;
}

/** Waits until the runtime has no outstanding registrations, applies or invokes. */
export async function settle(): Promise<void> {
  // waitForRPCs is exported by the runtime but not declared in its typings.
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}
