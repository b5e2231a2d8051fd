/**
 * Shared recording mock runtime for Pulumi program tests (`*.pulumi.spec.ts`, one mocha process per file because
 * Pulumi mocks are process-global).
 *
 * Usage:
 * ```ts
 * const recorder = await installPulumiMocks({ stack: "dev", config: { "meshstack-avm:managementAccountId": "111122223333", ... } });
 * const program = await runProgram(PROGRAM_PATH);           // loads src/index.ts and waits for every registration
 * expect(recorder.inventory()).to.deep.equal([...]);        // [type, name] pairs in registration order
 * const role = recorder.one("aws:iam/role:Role", "access-role-role-role");
 * ```
 * The mock answers `aws.getPartition`, `aws.getCallerIdentity` and `aws.getRegion` (and fails loudly on any other
 * invoke) and synthesises realistic `arn`, `url`, `functionUrl` and `name` outputs, using the account id of the
 * resource's provider (`allowedAccountIds[0]`) so ARNs in policies look like the real thing.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered. */
export interface RecordedResource {
  /** Pulumi type token, e.g. `aws:iam/role:Role`, `avm:access:AccountAccessRole`, `pulumi:providers:aws`. */
  readonly type: string;
  /** Logical (Pulumi) name. */
  readonly name: string;
  /** Inputs as the engine would receive them, with secret values unwrapped (see {@link secretInputs}). */
  readonly inputs: Record<string, any>;
  /** Top-level input names whose value is, or contains, a secret (e.g. `assumeRolePolicy` with an external id). */
  readonly secretInputs: string[];
  /** Logical name of the explicit provider managing the resource, when one is set. */
  readonly provider: string | undefined;
  /** False for component resources. */
  readonly custom: boolean;
  /** The account id the mock assumed for the resource (from its provider's `allowedAccountIds`). */
  readonly accountId: string;
}

/** One provider function call the program made. */
export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, any>;
  /** Logical name of the provider used for the call, when explicit. */
  readonly provider: string | undefined;
}

/** Options of {@link installPulumiMocks}. */
export interface PulumiMockOptions {
  /** Stack name (default `dev`); decides the stack kind of the program together with the config. */
  readonly stack?: string;
  /** Project name (default `meshstack-avm`). */
  readonly project?: string;
  /** Fully qualified config values (`meshstack-avm:accountId`, `aws:region`); objects must be JSON strings. */
  readonly config?: Readonly<Record<string, string>>;
  /** Keys of `config` that are secrets. */
  readonly secretKeys?: readonly string[];
  /** Partition the invokes report (default `aws`). */
  readonly partition?: string;
  /** Region the invokes and ARNs use when the config has no `aws:region` (default `eu-central-1`). */
  readonly region?: string;
  /** Account id for resources without a provider restricting `allowedAccountIds` (default `123456789012`). */
  readonly defaultAccountId?: string;
  /** `true` to run as a preview (`pulumi preview`); default `false` (update). */
  readonly preview?: boolean;
}

/** What the mock runtime recorded; reset with {@link PulumiRecorder.reset}. */
export class PulumiRecorder {
  /** Every resource registration, in order. */
  readonly resources: RecordedResource[] = [];
  /** Every invoke, in order. */
  readonly invokes: RecordedInvoke[] = [];

  /** Forgets everything recorded so far. */
  reset(): void {
    this.resources.length = 0;
    this.invokes.length = 0;
  }

  /** `[type, name]` of every registered resource, sorted by type then name (stable for deep.equal). */
  inventory(): [string, string][] {
    return this.resources
      .map((r): [string, string] => [r.type, r.name])
      .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  }

  /** Resources of `type`. */
  byType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /**
   * The single resource of `type` named `name`.
   * @throws Error listing what was registered when there is not exactly one.
   */
  one(type: string, name: string): RecordedResource {
    const found = this.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
      const known = this.inventory()
        .map(([t, n]) => `${t} ${n}`)
        .join("\n  ");
      throw new Error(`expected exactly one ${type} "${name}", found ${found.length}; registered:\n  ${known}`);
    }
    return found[0]!;
  }

  /** Parses a JSON string input (e.g. a policy document) of the single resource `type`/`name`. */
  json(type: string, name: string, input: string): unknown {
    const value = this.one(type, name).inputs[input];
    if (typeof value !== "string") {
      throw new Error(`${type} "${name}" input "${input}" is not a JSON string: ${JSON.stringify(value)}`);
    }
    return JSON.parse(value) as unknown;
  }
}

const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

/**
 * Installs the recording mocks (awaits `pulumi.runtime.setMocks`) and the stack configuration. Call once per process,
 * before loading any module that registers resources.
 */
export async function installPulumiMocks(options: PulumiMockOptions = {}): Promise<PulumiRecorder> {
  const recorder = new PulumiRecorder();
  const partition = options.partition ?? "aws";
  const config = options.config ?? {};
  const region = config["aws:region"] ?? options.region ?? "eu-central-1";
  const defaultAccountId = options.defaultAccountId ?? "123456789012";
  const providerAccounts = new Map<string, string>();

  const providerName = (ref: string | undefined): string | undefined => {
    if (ref === undefined || ref === "") return undefined;
    // A provider reference is `<urn>::<id>`; the URN ends with `::<type>::<name>`.
    const parts = ref.split("::");
    return parts[parts.length - 2];
  };
  const accountOf = (ref: string | undefined): string => {
    const name = providerName(ref);
    return (name === undefined ? undefined : providerAccounts.get(name)) ?? defaultAccountId;
  };

  pulumi.runtime.setAllConfig({ ...config }, [...(options.secretKeys ?? [])]);
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const raw = args.inputs as Record<string, any>;
        const inputs = unwrapSecrets(raw) as Record<string, any>;
        const secretInputs = Object.keys(raw).filter((key) => containsSecret(raw[key]));
        if (args.type.startsWith(PROVIDER_TYPE_PREFIX)) {
          // Provider inputs reach the engine JSON-encoded (e.g. `allowedAccountIds: '["111122223333"]'`).
          const raw = inputs["allowedAccountIds"] as string[] | string | undefined;
          const allowed = typeof raw === "string" ? (JSON.parse(raw) as string[]) : raw;
          if (allowed?.[0] !== undefined) providerAccounts.set(args.name, allowed[0]);
        }
        const accountId = args.type.startsWith(PROVIDER_TYPE_PREFIX)
          ? (providerAccounts.get(args.name) ?? defaultAccountId)
          : accountOf(args.provider);
        recorder.resources.push({
          type: args.type,
          name: args.name,
          inputs,
          secretInputs,
          provider: providerName(args.provider),
          custom: args.custom ?? true,
          accountId,
        });
        return {
          id: `${args.name}-id`,
          state: { ...raw, ...synthesizedState(args.type, args.name, inputs, { partition, region, accountId }) },
        };
      },
      call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        const inputs = args.inputs as Record<string, any>;
        recorder.invokes.push({ token: args.token, inputs, provider: providerName(args.provider) });
        const accountId = accountOf(args.provider);
        switch (args.token) {
          case "aws:index/getPartition:getPartition":
            return {
              id: partition,
              partition,
              dnsSuffix: partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com",
              reverseDnsPrefix: partition === "aws-cn" ? "cn.com.amazonaws" : "com.amazonaws",
            };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
              id: accountId,
              accountId,
              arn: `arn:${partition}:sts::${accountId}:assumed-role/mock/session`,
              userId: "AROAMOCK:session",
            };
          case "aws:index/getRegion:getRegion":
            return {
              id: region,
              name: region,
              region,
              description: region,
              endpoint: `ec2.${region}.amazonaws.com`,
            };
          default:
            throw new Error(`pulumiMocks: no mock answer for invoke ${args.token}`);
        }
      },
    },
    options.project ?? "meshstack-avm",
    options.stack ?? "dev",
    options.preview ?? false,
  );
  return recorder;
}

// How the runtime marks a secret value in serialized properties.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

function containsSecret(value: unknown): boolean {
  if (isSecretValue(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === undefined) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Outputs the mock adds to a resource's state, by type; inputs win when they set the same key. */
function synthesizedState(
  type: string,
  name: string,
  inputs: Record<string, any>,
  where: { partition: string; region: string; accountId: string },
): Record<string, unknown> {
  const { partition: p, region: r, accountId: a } = where;
  const physical = typeof inputs["name"] === "string" ? (inputs["name"] as string) : `${name}-physical`;
  switch (type) {
    case "aws:iam/role:Role":
      return { name: physical, arn: `arn:${p}:iam::${a}:role/${physical}`, uniqueId: `AROA${name.toUpperCase()}` };
    case "aws:iam/rolePolicy:RolePolicy":
      return { name: physical };
    case "aws:iam/policy:Policy":
      return { name: physical, arn: `arn:${p}:iam::${a}:policy/${physical}` };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return { arn: `arn:${p}:iam::${a}:oidc-provider/${String(inputs["url"]).replace(/^https:\/\//, "")}` };
    case "aws:lambda/function:Function":
      return {
        name: physical,
        arn: `arn:${p}:lambda:${r}:${a}:function:${physical}`,
        invokeArn: `arn:${p}:apigateway:${r}:lambda:path/2015-03-31/functions/arn:${p}:lambda:${r}:${a}:function:${physical}/invocations`,
      };
    case "aws:lambda/functionUrl:FunctionUrl":
      return { functionUrl: `https://${name}.lambda-url.${r}.on.aws/`, urlId: `${name}-url-id` };
    case "aws:sqs/queue:Queue":
      return {
        name: physical,
        arn: `arn:${p}:sqs:${r}:${a}:${physical}`,
        url: `https://sqs.${r}.amazonaws.com/${a}/${physical}`,
      };
    case "aws:dynamodb/table:Table":
      return { name: physical, arn: `arn:${p}:dynamodb:${r}:${a}:table/${physical}` };
    case "aws:secretsmanager/secret:Secret":
      return { name: physical, arn: `arn:${p}:secretsmanager:${r}:${a}:secret:${physical}-AbCdEf` };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { name: physical, arn: `arn:${p}:logs:${r}:${a}:log-group:${physical}` };
    default:
      return {};
  }
}

/**
 * Loads a program module (e.g. `src/index.ts`) afresh (clearing the require cache of the repository's `src/`
 * modules, so a second scenario in the same process registers again) and waits until every registration, apply and
 * invoke has settled.
 * @returns the module's exports with every `Output` resolved to its value (`undefined` where unknown).
 */
export async function runProgram(modulePath: string): Promise<Record<string, unknown>> {
  const srcRoot = path.resolve(__dirname, "..", "..", "src") + path.sep;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(srcRoot)) delete require.cache[key];
  }
  const exported = require(modulePath) as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    resolved[key] = pulumi.Output.isInstance(value) ? await outputValue(value) : value;
  }
  await settle();
  return resolved;
}

/** Waits until the Pulumi runtime has no outstanding registrations, applies or invokes. */
export async function settle(): Promise<void> {
  // waitForRPCs is exported by the runtime but not declared in its typings.
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

/** The value of an output (`undefined` when it is unknown, e.g. during preview). */
export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Whether an output is marked secret. */
export function isSecretOutput(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** Absolute path of the program's composition root, for {@link runProgram}. */
export const PROGRAM_PATH = path.resolve(__dirname, "..", "..", "src", "index.ts");
