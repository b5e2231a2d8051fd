import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LEDGER_INDEXES, LEDGER_KEY_ATTRIBUTES, LEDGER_TABLE } from "../adapters/aws/ledgerTable";
import { movedChild } from "./movedChild";

/** Arguments of {@link LedgerTable}. */
export interface LedgerTableArgs {
  /** Physical table name (`avm-ledger`). */
  readonly tableName: string;
}

/**
 * The DynamoDB request ledger with the layout of `src/adapters/aws/ledgerTable.ts`: on-demand, point-in-time
 * recovery, encryption, TTL for the webhook delivery-dedupe items, deletion protection (a replacement fails
 * instead of losing records). Read and written by the three AVM functions.
 *
 * Children: `<name>` (`aws:dynamodb/table:Table`).
 */
export class LedgerTable extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:LedgerTable";
  /** The table. */
  readonly table: aws.dynamodb.Table;

  constructor(name: string, args: LedgerTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LedgerTable.TYPE, name, {}, opts);
    this.table = new aws.dynamodb.Table(
      name,
      {
        name: args.tableName,
        billingMode: "PAY_PER_REQUEST",
        hashKey: LEDGER_TABLE.hashKey,
        attributes: LEDGER_KEY_ATTRIBUTES.map((attribute) => ({ name: attribute, type: "S" })),
        globalSecondaryIndexes: LEDGER_INDEXES.map((index) => ({ ...index, projectionType: "ALL" })),
        // Webhook delivery-dedupe items carry `expiresAt` (epoch seconds); see src/adapters/aws/dynamoDeliveryStore.ts.
        ttl: { attributeName: LEDGER_TABLE.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: true,
      },
      movedChild(this, opts),
    );
    this.registerOutputs({ tableName: this.table.name });
  }
}
