/**
 * Records the AWS calls a role really makes (an SDK middleware on the clients it uses) and turns each into the IAM
 * request AWS would authorize (`service:Action` on the resource ARN), so a test can prove with iam-simulate that the
 * deployed policies allow everything the code does. moto never enforces IAM, so without this a missing grant would
 * only show up as AccessDenied in a real account.
 */

/** One authorization request: who, what, on which resource. */
export interface ObservedCall {
  readonly role: string;
  readonly action: string;
  readonly resource: string;
}

/** Where the recorded calls run (moto's region and account, the organization's ids). */
export interface CallContext {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly managementAccountId: string;
  readonly organizationId: string;
}

/** Collects distinct calls by role. */
export class CallRecorder {
  private readonly seen = new Map<string, ObservedCall>();
  /** Commands the mapping does not know (the test fails on them rather than ignoring them). */
  readonly unmapped: string[] = [];

  constructor(private readonly context: CallContext) {}

  /**
   * Adds a middleware to `client` that records every command it sends as made by `role`, when `when()` is true
   * (default always).
   */
  observe(client: unknown, service: string, role: string, when: () => boolean = () => true): void {
    (
      client as {
        middlewareStack: { add(mw: unknown, options: { step: string; name: string; priority: string }): void };
      }
    ).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
        if (when()) {
          const command = (ctx.commandName ?? "").replace(/Command$/, "");
          const input = ((args as { input?: Record<string, unknown> }).input ?? {}) as Record<string, unknown>;
          if (service === "dynamodb" && command === "TransactWriteItems") {
            // IAM authorises a transaction by the actions in it, each on its own table.
            const { partition: p, region: r, accountId: a } = this.context;
            for (const item of (input["TransactItems"] ?? []) as Record<string, { TableName?: string }>[]) {
              for (const [kind, write] of Object.entries(item)) {
                const action = `dynamodb:${kind === "ConditionCheck" ? "ConditionCheckItem" : `${kind}Item`}`;
                const call = { role, action, resource: `arn:${p}:dynamodb:${r}:${a}:table/${write.TableName ?? ""}` };
                this.seen.set(JSON.stringify(call), call);
              }
            }
            return next(args);
          }
          for (const resource of this.resourcesOf(service, command, input)) {
            const call = { role, action: `${service}:${command}`, resource };
            this.seen.set(JSON.stringify(call), call);
          }
        }
        return next(args);
      },
      { step: "initialize", name: `observe-${service}-${role}`, priority: "high" },
    );
  }

  /** The distinct calls, sorted by role, action, resource. */
  calls(): ObservedCall[] {
    return [...this.seen.values()].sort(
      (a, b) =>
        a.role.localeCompare(b.role) || a.action.localeCompare(b.action) || a.resource.localeCompare(b.resource),
    );
  }

  private resourcesOf(service: string, command: string, input: Record<string, unknown>): string[] {
    const { partition: p, region: r, accountId: a, managementAccountId: m, organizationId: o } = this.context;
    const str = (key: string) => String(input[key] ?? "");
    const orgNode = (id: string) =>
      /^\d{12}$/.test(id)
        ? `arn:${p}:organizations::${m}:account/${o}/${id}`
        : id.startsWith("ou-")
          ? `arn:${p}:organizations::${m}:ou/${o}/${id}`
          : `arn:${p}:organizations::${m}:root/${o}/${id}`;
    if (service === "dynamodb") {
      const table = `arn:${p}:dynamodb:${r}:${a}:table/${str("TableName")}`;
      return [input["IndexName"] ? `${table}/index/${str("IndexName")}` : table];
    }
    if (service === "sqs") {
      const name = str("QueueUrl").split("/").pop();
      return [`arn:${p}:sqs:${r}:${a}:${name}`];
    }
    if (service === "secretsmanager") {
      const id = str("SecretId");
      return [id.startsWith("arn:") ? id : `arn:${p}:secretsmanager:${r}:${a}:secret:${id}`];
    }
    if (service === "organizations") {
      switch (command) {
        case "CreateAccount":
        case "DescribeCreateAccountStatus":
        case "ListCreateAccountStatus":
        case "ListAccounts":
        case "ListRoots":
        case "DescribeOrganization":
          return ["*"];
        case "DescribeAccount":
        case "CloseAccount":
          return [orgNode(str("AccountId"))];
        case "TagResource":
        case "UntagResource":
        case "ListTagsForResource":
          return [orgNode(str("ResourceId"))];
        case "ListParents":
          return [orgNode(str("ChildId"))];
        case "ListOrganizationalUnitsForParent":
          return [orgNode(str("ParentId"))];
        case "DescribeOrganizationalUnit":
          return [orgNode(str("OrganizationalUnitId"))];
        case "MoveAccount":
          return [orgNode(str("AccountId")), orgNode(str("SourceParentId")), orgNode(str("DestinationParentId"))];
      }
    }
    this.unmapped.push(`${service}:${command}`);
    return [];
  }
}
