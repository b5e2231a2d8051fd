import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlternateContacts } from "../config/types";

/** Arguments of {@link AccountBaseline}. */
export interface AccountBaselineArgs {
  /** IAM account alias to set, if any. */
  readonly accountAlias?: string | undefined;
  /** Alternate contacts to set, by type. */
  readonly alternateContacts?: AlternateContacts | undefined;
}

const CONTACT_TYPES = { operations: "OPERATIONS", billing: "BILLING", security: "SECURITY" } as const;

/**
 * Optional account baseline of a managed account: the IAM account alias and the alternate contacts (operations,
 * billing, security). Registers no children when nothing is configured.
 *
 * Children: `<name>-alias` (aws.iam.AccountAlias), `<name>-contact-<type>` (aws.account.AlternativeContact).
 */
export class AccountBaseline extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:access:AccountBaseline";
  /** The alias, when one is managed. */
  readonly accountAlias: pulumi.Output<string | undefined>;

  constructor(name: string, args: AccountBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super(AccountBaseline.TYPE, name, {}, opts);
    const alias =
      args.accountAlias === undefined
        ? undefined
        : new aws.iam.AccountAlias(`${name}-alias`, { accountAlias: args.accountAlias }, { parent: this });
    for (const [key, type] of Object.entries(CONTACT_TYPES) as [keyof AlternateContacts, string][]) {
      const contact = args.alternateContacts?.[key];
      if (contact === undefined) continue;
      new aws.account.AlternativeContact(
        `${name}-contact-${key}`,
        {
          alternateContactType: type,
          name: contact.name,
          title: contact.title,
          emailAddress: contact.emailAddress,
          phoneNumber: contact.phoneNumber,
        },
        { parent: this },
      );
    }
    this.accountAlias = alias === undefined ? pulumi.output(undefined) : alias.accountAlias;
    this.registerOutputs({ accountAlias: this.accountAlias });
  }
}
