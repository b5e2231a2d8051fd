/** The AccountVendingMachine arguments the component specs share (plain values; each spec adds its secrets). */
import type { AccountVendingMachineArgs } from "../../../src/components/accountVendingMachine";

/** A platform stack in eu-central-1 of automation account 444455556666, management account 111122223333. */
export const AVM_BASE_ARGS: AccountVendingMachineArgs = {
  partition: "aws",
  region: "eu-central-1",
  accountId: "444455556666",
  organizationId: "o-exampleorg1",
  managementAccountId: "111122223333",
  vendingRoleName: "AVMVendingRole",
  bootstrapRoleName: "OrganizationAccountAccessRole",
  logRetentionDays: 30,
  maxConcurrentCreates: 3,
};
