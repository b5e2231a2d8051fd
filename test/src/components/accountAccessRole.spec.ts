import { expect } from "chai";
import { AccountAccessRoleArgsError, validateAccountAccessRoleArgs } from "../../../src/components/accountAccessRole";
import { accessRoleCollisionMessage, isRoleAlreadyExistsError } from "../../../src/stacks/accessRoleCollision";
import { checkedPolicyText } from "../../../src/components/leastPrivilegeRole";
import { UnknownIamActionError } from "../../../src/policies/iamCatalog";

const args = {
  partition: "aws",
  accountId: "222233334444",
  region: "eu-central-1",
  managementAccountId: "111122223333",
  automationAccountId: "444455556666",
};

describe("AccountAccessRole (pure parts)", () => {
  it("accepts valid arguments", () => {
    expect(() => validateAccountAccessRoleArgs(args)).not.to.throw();
  });

  it("rejects the Organizations bootstrap role name, naming the property", () => {
    expect(() => validateAccountAccessRoleArgs({ ...args, roleName: "OrganizationAccountAccessRole" })).to.throw(
      AccountAccessRoleArgsError,
      "roleName must not be OrganizationAccountAccessRole: AWS Organizations creates that admin role in every new account",
    );
  });

  it("rejects invalid role names and account ids", () => {
    expect(() => validateAccountAccessRoleArgs({ ...args, roleName: "a b" })).to.throw(
      AccountAccessRoleArgsError,
      'roleName must match [\\w+=,.@-]{1,64}, got "a b"',
    );
    expect(() => validateAccountAccessRoleArgs({ ...args, automationAccountId: "4444" })).to.throw(
      AccountAccessRoleArgsError,
      'automationAccountId must be a 12-digit AWS account id, got "4444"',
    );
  });

  it("recognises IAM's EntityAlreadyExists for the role and explains the collision", () => {
    const engine =
      "creating IAM Role (MeshstackAccountAccessRole): operation error IAM: CreateRole, https response error " +
      "StatusCode: 409, RequestID: x, EntityAlreadyExists: Role with name MeshstackAccountAccessRole already exists.";
    expect(isRoleAlreadyExistsError(engine, "MeshstackAccountAccessRole")).to.equal(true);
    expect(isRoleAlreadyExistsError(engine, "OtherRole")).to.equal(false);
    expect(isRoleAlreadyExistsError("AccessDenied", "MeshstackAccountAccessRole")).to.equal(false);
    expect(accessRoleCollisionMessage("MeshstackAccountAccessRole", "222233334444")).to.equal(
      'account 222233334444 already has an IAM role named "MeshstackAccountAccessRole" that this stack does not ' +
        "manage; either choose another name (config key accessRoleName) or adopt the existing role with " +
        "`pulumi import aws:iam/role:Role <resource name> MeshstackAccountAccessRole` after checking it grants nothing else",
    );
  });

  it("serialises only policies that pass the IAM catalog check", async () => {
    const good = {
      Version: "2012-10-17" as const,
      Statement: [{ Effect: "Allow" as const, Action: "iam:GetRole", Resource: "*" }],
    };
    expect(await checkedPolicyText("r/permissions", good)).to.equal(JSON.stringify(good));
    try {
      await checkedPolicyText("r/permissions", {
        ...good,
        Statement: [{ ...good.Statement[0]!, Action: "iam:ListSAMProviders" }],
      });
      expect.fail("checkedPolicyText did not throw");
    } catch (error) {
      expect(error).to.be.instanceOf(UnknownIamActionError);
      expect((error as Error).message).to.equal('policy "r/permissions": unknown IAM action "iam:ListSAMProviders"');
    }
  });
});
