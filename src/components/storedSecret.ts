import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FIXED_NAME_OPTIONS, movedChild } from "./movedChild";

/** Arguments of {@link StoredSecret}. */
export interface StoredSecretArgs {
  /** Physical secret name. */
  readonly secretName: string;
  /** The value (kept secret in state). */
  readonly value: pulumi.Input<string>;
  readonly description: string;
}

/**
 * A Secrets Manager secret and its current value; the AVM's functions get only the ARN. No recovery window: a
 * destroy deletes the secret at once, so the next `up` can create it under the same name (with the default 30-day
 * window it would fail: "scheduled for deletion"). The value lives in stack config.
 *
 * Children: `<name>` (`aws:secretsmanager/secret:Secret`), `<name>-value`.
 */
export class StoredSecret extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:StoredSecret";
  readonly secret: aws.secretsmanager.Secret;
  /** ARN of the secret. */
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: StoredSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super(StoredSecret.TYPE, name, {}, opts);
    const child = movedChild(this, opts);
    this.secret = new aws.secretsmanager.Secret(
      name,
      { name: args.secretName, description: args.description, recoveryWindowInDays: 0 },
      { ...child, ...FIXED_NAME_OPTIONS },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-value`,
      { secretId: this.secret.id, secretString: pulumi.secret(args.value) },
      child,
    );
    this.arn = this.secret.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
