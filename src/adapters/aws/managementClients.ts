/**
 * AWS clients the worker uses in the management account: Organizations calls run with the credentials of
 * the vending role (`AVM_MANAGEMENT_ROLE_ARN`), assumed through STS and refreshed by the SDK.
 */
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { ENV, requireEnv } from "../../lambda/env";

/** STS session name of the worker's management-account sessions (shows in CloudTrail). */
export const MANAGEMENT_SESSION_NAME = "meshstack-avm-worker";

/** Credentials (or a provider) accepted as the source of the AssumeRole call. */
export type SourceCredentials = NonNullable<Parameters<typeof fromTemporaryCredentials>[0]["masterCredentials"]>;

/** Options of {@link createManagementOrganizationsClient}. */
export interface ManagementClientOptions {
  /** Environment to read `AVM_MANAGEMENT_ROLE_ARN`, `AWS_REGION` and `AWS_ENDPOINT_URL` from. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** SDK attempts per call (the gateway retries throttling on top). Default: the SDK's (3). */
  readonly maxAttempts?: number;
  /** Credentials that call STS AssumeRole. Default: the standard chain (in Lambda, the worker's role). */
  readonly sourceCredentials?: SourceCredentials;
  /** STS session name (shows in CloudTrail). Default {@link MANAGEMENT_SESSION_NAME}. */
  readonly sessionName?: string;
  /**
   * Session policy (JSON) passed to AssumeRole: the session may do only what both it and the role allow.
   * Default none (the role's own permissions).
   */
  readonly sessionPolicy?: string;
}

/**
 * An Organizations client whose credentials come from assuming the management account's vending role.
 * `AWS_ENDPOINT_URL` (e.g. moto) is passed to both the client and the STS client of the credential
 * provider, which otherwise would call real STS.
 * @throws Error naming `AVM_MANAGEMENT_ROLE_ARN` when it is not set.
 */
export function createManagementOrganizationsClient(options: ManagementClientOptions = {}): OrganizationsClient {
  const env = options.env ?? process.env;
  const roleArn = requireEnv(ENV.managementRoleArn, env);
  const region = env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1";
  const endpoint = env["AWS_ENDPOINT_URL"];
  const local = endpoint !== undefined && endpoint !== "" ? { endpoint } : {};
  return new OrganizationsClient({
    region,
    ...local,
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    credentials: fromTemporaryCredentials({
      params: {
        RoleArn: roleArn,
        RoleSessionName: options.sessionName ?? MANAGEMENT_SESSION_NAME,
        ...(options.sessionPolicy !== undefined ? { Policy: options.sessionPolicy } : {}),
      },
      ...(options.sourceCredentials ? { masterCredentials: options.sourceCredentials } : {}),
      clientConfig: { region, ...local },
    }),
  });
}
