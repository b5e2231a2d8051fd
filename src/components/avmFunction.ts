import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleHandler } from "../lambda/bundle";
import type { PolicyDocument } from "../policies/document";
import { lambdaTrustPolicy } from "../policies/avmRoles";
import { lambdaLogGroupName } from "../policies/platformNames";
import { LeastPrivilegeRole } from "./leastPrivilegeRole";
import { FIXED_NAME_OPTIONS, movedChild } from "./movedChild";

/** Lambda runtime of every AVM function. */
export const LAMBDA_RUNTIME = "nodejs22.x";

/** Arguments of {@link AvmFunction}. */
export interface AvmFunctionArgs {
  /** Physical function name (also names its log group). */
  readonly functionName: string;
  /** Handler entry file, relative to `src/lambda/` (see `HANDLER_ENTRIES`). */
  readonly entry: string;
  /** Physical name and description of the execution role, and its permissions (trust: Lambda only). */
  readonly roleName: string;
  readonly roleDescription: string;
  readonly permissionsPolicy: pulumi.Input<PolicyDocument>;
  /** Timeout (seconds) and memory (MB). */
  readonly settings: { readonly timeout: number; readonly memorySize: number };
  /** Log retention in days (a CloudWatch Logs allowed value). */
  readonly retentionDays: number;
  /** Leave `@aws-sdk/*` to the Lambda runtime instead of bundling it. */
  readonly externalAwsSdk: boolean;
  readonly environment: Record<string, pulumi.Input<string>>;
}

/**
 * One AVM function: its least-privilege execution role (trusted by Lambda only), its log group (created first, so
 * Lambda never creates an unmanaged one) and the function, bundled with esbuild at program run time, on arm64.
 *
 * Children: `<name>-role` (`avm:iam:LeastPrivilegeRole`), `<name>-logs`, `<name>` (`aws:lambda/function:Function`).
 */
export class AvmFunction extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:Function";
  readonly function: aws.lambda.Function;
  readonly role: LeastPrivilegeRole;

  constructor(name: string, args: AvmFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(AvmFunction.TYPE, name, {}, opts);
    const child = movedChild(this, opts);
    this.role = new LeastPrivilegeRole(
      `${name}-role`,
      {
        roleName: args.roleName,
        description: args.roleDescription,
        trustPolicy: lambdaTrustPolicy(),
        permissionsPolicy: args.permissionsPolicy,
      },
      child,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: lambdaLogGroupName(args.functionName), retentionInDays: args.retentionDays },
      { ...child, ...FIXED_NAME_OPTIONS },
    );
    const bundle = bundleHandler(args.entry, { externalAwsSdk: args.externalAwsSdk });
    this.function = new aws.lambda.Function(
      name,
      {
        name: args.functionName,
        runtime: LAMBDA_RUNTIME,
        handler: "index.handler",
        architectures: ["arm64"],
        role: this.role.roleArn,
        code: new pulumi.asset.AssetArchive(
          Object.fromEntries(
            Object.entries(bundle.files).map(([file, code]) => [file, new pulumi.asset.StringAsset(code)]),
          ),
        ),
        timeout: args.settings.timeout,
        memorySize: args.settings.memorySize,
        environment: { variables: args.environment },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      },
      { ...child, dependsOn: [logGroup, this.role.permissions], ...FIXED_NAME_OPTIONS },
    );
    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.roleArn });
  }
}
